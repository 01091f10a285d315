/**
 * Every replication message a peer sends, checked field by field before it
 * reaches the replica, as a client's request is checked before it reaches
 * the engine: a known type, exactly its fields, ids that are members (from
 * the node the connection authenticated, to this node), terms and indexes
 * that are integers in [0, TERM_MAX] and [0, INDEX_MAX] (bounds.ts), entries
 * numbered on from prev_index + 1 with terms that never go down nor above
 * the message's, entry data the node accepts (`checkData`), booleans that are
 * booleans, lists no longer than they can be, and a snapshot whose bytes
 * match the sha256 its sender computed. Anything else throws PeerInputError;
 * nothing else is thrown.
 *
 * It is on the hottest path (every append batch), so it is hand-written: one
 * walk over the fields, nothing encoded again. Hashing a snapshot is the one
 * costly check, and snapshots are rare.
 */
import { createHash } from 'node:crypto';
import { INDEX_MAX, TERM_MAX, isBoundedCount, isSha256Hex } from './bounds';
import type { Message } from './messages';
import { imageParts } from './storage-records';

export class PeerInputError extends Error {
  override name = 'PeerInputError';
}

export interface PeerValidationOptions {
  self_id: number;
  /** Every member of the cluster, this node included. */
  member_ids: readonly number[];
  /** The most entries one append may carry (the replica's entries_per_append_max). */
  entries_per_message_max: number;
  /** Throws (anything) when an entry's data is not what this node accepts. */
  checkData(data: unknown): void;
}

/** Messages in one frame: far more than a node's outbox ever holds for one peer. */
export const MESSAGES_PER_FRAME_MAX = 4096;
/** A read round counts read-index requests: an integer, bounded like an index. */
const READ_CONTEXT_MAX = INDEX_MAX;

const FIELDS: Record<string, readonly string[]> = {
  append_entries: ['type', 'from', 'to', 'term', 'prev_index', 'prev_term', 'entries', 'commit', 'live_ids', 'read_context'],
  append_response: ['type', 'from', 'to', 'term', 'success', 'index', 'hint_index', 'hint_term', 'read_context'],
  request_vote: ['type', 'from', 'to', 'term', 'pre_vote', 'last_index', 'last_term'],
  vote_response: ['type', 'from', 'to', 'term', 'pre_vote', 'granted'],
  install_snapshot: ['type', 'from', 'to', 'term', 'snapshot', 'checksum', 'live_ids', 'read_context'],
};
/** A repair image (src/node/content-check.ts) is an install_snapshot marked `repair: true`. */
const REPAIR_FIELDS: readonly string[] = [...FIELDS.install_snapshot, 'repair'];

function refuse(message: string): never {
  throw new PeerInputError(message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Short, printable: a refusal names the bad value without echoing megabytes. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}

function exactFields(value: Record<string, unknown>, fields: readonly string[], what: string): void {
  let count = 0;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    count += 1;
    if (!fields.includes(key)) refuse(`${what} has an unknown field ${shown(key)}`);
  }
  if (count !== fields.length) refuse(`${what} lacks a field (it needs ${fields.join(', ')})`);
}

function count(value: unknown, max: number, what: string): number {
  if (!isBoundedCount(value, max)) refuse(`${what} must be an integer in [0, ${max}], not ${shown(value)}`);
  return value;
}

function boolean(value: unknown, what: string): void {
  if (typeof value !== 'boolean') refuse(`${what} must be a boolean, not ${shown(value)}`);
}

export class PeerValidator {
  private readonly members: ReadonlySet<number>;

  constructor(private readonly options: PeerValidationOptions) {
    this.members = new Set(options.member_ids);
  }

  /** A MESSAGES frame's decoded body, `{messages: [...]}`, from the node the connection authenticated. */
  frame(raw: unknown, sender_id: number): Message<unknown>[] {
    if (!isObject(raw)) refuse('a messages frame must be an object');
    exactFields(raw, ['messages'], 'a messages frame');
    const messages = raw.messages;
    if (!Array.isArray(messages)) refuse('messages must be a list');
    if (messages.length > MESSAGES_PER_FRAME_MAX) refuse(`a frame of ${messages.length} messages (at most ${MESSAGES_PER_FRAME_MAX})`);
    for (let index = 0; index < messages.length; index += 1) this.message(messages[index], sender_id);
    return messages as Message<unknown>[];
  }

  /** One message; throws PeerInputError saying what is wrong. */
  message(raw: unknown, sender_id: number): void {
    if (!isObject(raw)) refuse('a message must be an object');
    const raw_type = raw.type;
    const type = typeof raw_type === 'string' && Object.prototype.hasOwnProperty.call(FIELDS, raw_type) ? raw_type : null;
    if (type === null) refuse(`unknown message type ${shown(raw_type)}`);
    const repair = type === 'install_snapshot' && Object.prototype.hasOwnProperty.call(raw, 'repair');
    if (repair && raw.repair !== true) refuse(`repair must be true when present, not ${shown(raw.repair)}`);
    const fields = repair ? REPAIR_FIELDS : (FIELDS[type] as readonly string[]);
    exactFields(raw, fields, type);
    if (raw.from !== sender_id) refuse(`a message from ${shown(raw.from)} on the connection of node ${sender_id}`);
    if (raw.to !== this.options.self_id) refuse(`a message for ${shown(raw.to)} sent to node ${this.options.self_id}`);
    const term = count(raw.term, TERM_MAX, `${type} term`);
    switch (type) {
      case 'append_entries':
        return this.appendEntries(raw, term);
      case 'append_response':
        boolean(raw.success, 'success');
        count(raw.index, INDEX_MAX, 'index');
        count(raw.hint_index, INDEX_MAX, 'hint_index');
        count(raw.hint_term, TERM_MAX, 'hint_term');
        count(raw.read_context, READ_CONTEXT_MAX, 'read_context');
        return;
      case 'request_vote':
        boolean(raw.pre_vote, 'pre_vote');
        count(raw.last_index, INDEX_MAX, 'last_index');
        if (count(raw.last_term, TERM_MAX, 'last_term') > term) refuse(`last_term ${String(raw.last_term)} above the term ${term}`);
        return;
      case 'vote_response':
        boolean(raw.pre_vote, 'pre_vote');
        boolean(raw.granted, 'granted');
        return;
      default:
        return this.installSnapshot(raw, term);
    }
  }

  private appendEntries(raw: Record<string, unknown>, term: number): void {
    const prev_index = count(raw.prev_index, INDEX_MAX, 'prev_index');
    let previous_term = count(raw.prev_term, TERM_MAX, 'prev_term');
    if (previous_term > term) refuse(`prev_term ${previous_term} above the term ${term}`);
    count(raw.commit, INDEX_MAX, 'commit');
    count(raw.read_context, READ_CONTEXT_MAX, 'read_context');
    this.liveIds(raw.live_ids);
    const entries = raw.entries;
    if (!Array.isArray(entries)) refuse('entries must be a list');
    if (entries.length > this.options.entries_per_message_max) {
      refuse(`an append of ${entries.length} entries (at most ${this.options.entries_per_message_max})`);
    }
    if (prev_index + entries.length > INDEX_MAX) refuse(`entries beyond index ${INDEX_MAX}`);
    for (let offset = 0; offset < entries.length; offset += 1) {
      const entry: unknown = entries[offset];
      if (!isObject(entry)) refuse(`entry ${offset} must be an object`);
      exactFields(entry, ['index', 'term', 'data'], 'an entry');
      if (entry.index !== prev_index + 1 + offset) refuse(`entry ${offset} has index ${shown(entry.index)}, not ${prev_index + 1 + offset}`);
      const entry_term = count(entry.term, TERM_MAX, `entry ${offset} term`);
      if (entry_term < previous_term || entry_term > term) {
        refuse(`entry ${offset} has term ${entry_term}: terms must stay within [${previous_term}, ${term}]`);
      }
      previous_term = entry_term;
      try {
        this.options.checkData(entry.data);
      } catch (error) {
        refuse(`entry ${offset} (index ${prev_index + 1 + offset}): ${(error as Error)?.message ?? String(error)}`);
      }
    }
  }

  private installSnapshot(raw: Record<string, unknown>, term: number): void {
    count(raw.read_context, READ_CONTEXT_MAX, 'read_context');
    this.liveIds(raw.live_ids);
    const snapshot = raw.snapshot;
    if (!isObject(snapshot)) refuse('snapshot must be an object');
    exactFields(snapshot, ['meta', 'data'], 'a snapshot');
    const meta = snapshot.meta;
    if (!isObject(meta)) refuse('snapshot meta must be an object');
    exactFields(meta, ['last_index', 'last_term'], 'snapshot meta');
    count(meta.last_index, INDEX_MAX, 'snapshot last_index');
    if (count(meta.last_term, TERM_MAX, 'snapshot last_term') > term) refuse(`snapshot last_term ${String(meta.last_term)} above the term ${term}`);
    const data = snapshot.data;
    if (!(data instanceof Uint8Array) || data.byteLength === 0) refuse('snapshot data must be bytes');
    const checksum = raw.checksum;
    if (!isSha256Hex(checksum)) refuse('checksum must be the sha256 of the snapshot, in hex');
    if (snapshotChecksum(data) !== checksum) refuse(`the snapshot at ${String(meta.last_index)} does not match its checksum`);
  }

  private liveIds(value: unknown): void {
    if (!Array.isArray(value)) refuse('live_ids must be a list');
    if (value.length > this.members.size) refuse(`live_ids lists ${value.length} ids, more than the ${this.members.size} members`);
    for (const id of value) if (!this.members.has(id as number)) refuse(`live_ids names ${shown(id)}, not a member`);
  }
}

/** The checksum an install_snapshot carries: sha256 of the image, in hex. */
export function snapshotChecksum(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The same checksum of an image (or of its parts, in order), hashed a slice
 * at a time with `pause()` between slices, so a large image does not hold
 * the thread (~10 ms a slice here).
 */
export async function snapshotChecksumInSlices(image: Uint8Array | readonly Uint8Array[], pause: () => Promise<void>): Promise<string> {
  const hash = createHash('sha256');
  let hashed = 0;
  for (const part of imageParts(image)) {
    for (let offset = 0; offset < part.byteLength; offset += CHECKSUM_SLICE_BYTES) {
      if (hashed > 0) await pause();
      const slice = part.subarray(offset, Math.min(part.byteLength, offset + CHECKSUM_SLICE_BYTES));
      hash.update(slice);
      hashed += slice.byteLength;
    }
  }
  return hash.digest('hex');
}

const CHECKSUM_SLICE_BYTES = 16 * 1024 * 1024;
