/**
 * What the frames of ddb's storage files hold, and how a log is replayed.
 *
 * Log file: one frame per save(), its payload the JSON text of a LogRecord
 * `{"hard_state": HardState | null, "entries": Entry[]}`. One record per save()
 * makes a batch atomic on disk: after a crash a batch is all there or not at all,
 * so a term is never recovered without the vote it was written with, nor entries
 * without the term that allowed them. A record whose first entry index is at or
 * below the last stored index replaces the stored suffix from that index on, as
 * save() did when it was written; there is no separate truncate record.
 *
 * Snapshot file: two frames, the JSON of the SnapshotMeta, then a format byte
 * (SNAPSHOT_IMAGE_FORMAT) followed by the image bytes; the format byte also keeps
 * the frame non-empty when the image is empty.
 *
 * Pure functions: no file system here. A frame that passed its checksum but does
 * not decode is a bug, never a torn write, so decoding throws.
 */
import { INDEX_MAX, TERM_MAX, isBoundedCount } from './bounds';
import type { Entry, HardState, Snapshot, SnapshotMeta } from './messages';
import { encodeFrameParts, encodeJsonFrame, scanFrames } from './storage-frames';

export interface LogRecord<T> {
  hard_state: HardState | null;
  entries: Entry<T>[];
}

export interface ReplayedLog<T> {
  /** The last hard state recorded, or null if the log holds none. */
  hard_state: HardState | null;
  /** The live entries of the log, contiguous, in index order. */
  entries: Entry<T>[];
}

/** The position before the first entry of a log that was never compacted. */
export const EMPTY_SNAPSHOT_META: SnapshotMeta = { last_index: 0, last_term: 0 };

export const INITIAL_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

export function encodeLogRecord<T>(record: LogRecord<T>): Buffer {
  // Only the known fields are written, whatever else the caller's objects carry.
  const hardState = record.hard_state === null ? null : copyHardState(record.hard_state);
  const entries = record.entries.map((entry) => ({ index: entry.index, term: entry.term, data: entry.data }));
  return encodeJsonFrame(JSON.stringify({ hard_state: hardState, entries }));
}

/**
 * A whole log as records of about `recordBytesTarget` bytes each (for a log
 * rewritten after a snapshot): the hard state first, then the entries. Each entry
 * is serialized once; the chunking only bounds the size of one record.
 */
export function encodeLogInRecords<T>(hardState: HardState, entries: Entry<T>[], recordBytesTarget: number): Buffer[] {
  const frames: Buffer[] = [];
  let chunk: string[] = [];
  let chunkBytes = 0;
  let pendingHardState: HardState | null = copyHardState(hardState);
  const flush = (): void => {
    const hardStateJson = JSON.stringify(pendingHardState);
    frames.push(encodeJsonFrame(`{"hard_state":${hardStateJson},"entries":[${chunk.join(',')}]}`));
    pendingHardState = null;
    chunk = [];
    chunkBytes = 0;
  };
  for (const entry of entries) {
    const json = JSON.stringify({ index: entry.index, term: entry.term, data: entry.data });
    chunk.push(json);
    chunkBytes += json.length;
    if (chunkBytes >= recordBytesTarget) flush();
  }
  if (chunk.length > 0 || pendingHardState !== null) flush();
  return frames;
}

function copyHardState(hardState: HardState): HardState {
  return { term: hardState.term, vote: hardState.vote, commit: hardState.commit };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Terms and indexes within the bounds every peer message is held to (bounds.ts), so whatever a node moved to it can save and recover. */
export function isHardState(value: unknown): value is HardState {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return isBoundedCount(candidate.term, TERM_MAX) && isBoundedCount(candidate.commit, INDEX_MAX) && (candidate.vote === null || isCount(candidate.vote));
}

export function isEntry(value: unknown): value is Entry<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return isBoundedCount(candidate.index, INDEX_MAX) && candidate.index >= 1 && isBoundedCount(candidate.term, TERM_MAX) && candidate.data !== undefined;
}

export function decodeLogRecord<T>(payload: Buffer, where: string): LogRecord<T> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    throw new Error(`${where}: record passed its checksum but is not JSON (${(error as Error).message})`);
  }
  const candidate = value as Record<string, unknown> | null;
  const valid =
    typeof candidate === 'object' &&
    candidate !== null &&
    (candidate.hard_state === null || isHardState(candidate.hard_state)) &&
    Array.isArray(candidate.entries) &&
    candidate.entries.every(isEntry);
  if (!valid) throw new Error(`${where}: record passed its checksum but is not a log record`);
  return value as LogRecord<T>;
}

/**
 * Replays a log's records in order. Each record's entries must be contiguous and
 * start inside or right after the entries replayed so far; anything else was never
 * written by save() and is reported as corruption.
 */
export function replayLog<T>(payloads: Buffer[], fileName: string): ReplayedLog<T> {
  let hardState: HardState | null = null;
  const entries: Entry<T>[] = [];
  payloads.forEach((payload, recordNumber) => {
    const where = `${fileName} record ${recordNumber}`;
    const record = decodeLogRecord<T>(payload, where);
    if (record.hard_state !== null) hardState = record.hard_state;
    if (record.entries.length === 0) return;
    const first = record.entries[0].index;
    record.entries.forEach((entry, offset) => {
      if (entry.index !== first + offset) throw new Error(`${where}: entry indexes are not contiguous at ${entry.index}`);
    });
    if (entries.length > 0) {
      const logFirst = entries[0].index;
      const logLast = entries[entries.length - 1].index;
      if (first < logFirst || first > logLast + 1) {
        throw new Error(`${where}: entries from ${first} do not fit the log holding ${logFirst}..${logLast}`);
      }
      entries.length = first - logFirst;
    }
    for (const entry of record.entries) entries.push(entry);
  });
  return { hard_state: hardState, entries };
}

/**
 * The entries a snapshot leaves in the log, by Raft's InstallSnapshot rule: if the
 * log holds the snapshot's last entry with the same term, the entries after it are
 * kept; otherwise the log disagrees with (or is behind) the snapshot and nothing is
 * kept. A log that starts right after the snapshot is kept whole: it was already
 * compacted at that point. The same rule runs in saveSnapshot() and in recovery
 * after a crash between installing a snapshot and rewriting the log, so both end in
 * the same state.
 */
export function entriesKeptBySnapshot<T>(entries: Entry<T>[], meta: SnapshotMeta): Entry<T>[] {
  if (entries.length === 0) return [];
  const first = entries[0].index;
  const last = entries[entries.length - 1].index;
  if (meta.last_index === first - 1) return entries;
  if (meta.last_index < first - 1) {
    throw new Error(`log starts at index ${first}, leaving a gap after the snapshot at index ${meta.last_index}`);
  }
  if (meta.last_index > last) return [];
  const position = meta.last_index - first;
  return entries[position].term === meta.last_term ? entries.slice(position + 1) : [];
}

export const SNAPSHOT_IMAGE_FORMAT = 1;

/** The pieces of a snapshot file, in write order; the image is not copied. */
export function encodeSnapshotFile(snapshot: SnapshotToSave): Uint8Array[] {
  const meta = { last_index: snapshot.meta.last_index, last_term: snapshot.meta.last_term };
  const metaFrame = encodeJsonFrame(JSON.stringify(meta));
  return [metaFrame, ...encodeFrameParts([Uint8Array.of(SNAPSHOT_IMAGE_FORMAT), ...imageParts(snapshot.data)])];
}

/** A snapshot on its way to disk: the image may come in parts, written in order as one image. */
export interface SnapshotToSave {
  meta: SnapshotMeta;
  data: Uint8Array | readonly Uint8Array[];
}

export function imageParts(data: SnapshotToSave['data']): readonly Uint8Array[] {
  return data instanceof Uint8Array ? [data] : data;
}

/** A snapshot file is renamed into place only once complete, so any damage throws. */
export function decodeSnapshotFile(buffer: Buffer, fileName: string): Snapshot {
  const scan = scanFrames(buffer, fileName);
  if (scan.torn_bytes > 0 || scan.payloads.length !== 2 || scan.payloads[1][0] !== SNAPSHOT_IMAGE_FORMAT) {
    throw new Error(`${fileName}: damaged snapshot file (${scan.payloads.length} valid frames, ${scan.torn_bytes} bad bytes)`);
  }
  let meta: unknown;
  try {
    meta = JSON.parse(scan.payloads[0].toString('utf8'));
  } catch {
    meta = null;
  }
  const candidate = meta as Record<string, unknown> | null;
  if (typeof candidate !== 'object' || candidate === null || !isCount(candidate.last_index) || !isCount(candidate.last_term)) {
    throw new Error(`${fileName}: snapshot metadata is not valid`);
  }
  // A view, not a copy: the rest of the file buffer is a few bytes of framing and metadata,
  // and a copy of a large image doubled the memory a master needs to send it.
  const payload = scan.payloads[1];
  const data = new Uint8Array(payload.buffer, payload.byteOffset + 1, payload.byteLength - 1);
  return { meta: { last_index: candidate.last_index, last_term: candidate.last_term }, data };
}
