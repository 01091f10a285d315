/**
 * The applied state of a node: the engine plus two hash chains over every
 * entry applied so far.
 * - `state_hash = sha256(previous state_hash, entry)`: two nodes at the same
 *   applied_index with different state hashes hold different logs.
 * - `content_hash = sha256(previous content_hash, index, result[, data])`: the
 *   chain of what each entry did (its answer: rows changed, rows returned, or
 *   its error), and at every `every_entries`-th index the hash of the data
 *   itself (Engine.dataHash), unless the databases are over `bytes_max`. Two
 *   nodes with the same log and different content hashes applied it to
 *   different data, or under different settings or limits: their data has
 *   diverged, which the entry chain cannot see (content-check.ts compares it
 *   with the master's). Both settings must be the same on every node.
 *
 * A snapshot image is the engine's image behind a small header that records
 * the applied index and both hashes it was taken at, so a node restored from
 * it continues the same chains.
 */
import { createHash } from 'node:crypto';
import type { ApplyContext, ApplyResult, Command } from '../../database/commands';
import { Engine, type PreparedRestore } from '../../database/engine';
import type { EngineLimits } from '../../database/limits';
import { INDEX_MAX, isBoundedCount, isSha256Hex } from '../replication/bounds';
import type { Entry } from '../replication/messages';
import type { ErrorBody } from '../../utils/errors';
import { checkLogPayload } from './payload-validation';

/** What a log entry carries: a command and the context the master fixed for it. */
export interface LogPayload {
  command: Command;
  context: ApplyContext;
  /**
   * A SQL write the master ran as a trial within the write budget before it
   * proposed it. A SQL entry without it (a log written by an older ddb) is
   * tried by each node before it applies it (apply-gate.ts).
   */
  tried?: true;
}

/**
 * Refusals kept for replays after a repair (content-check.ts), the latest
 * ones: a refusal is a statement that ran past statement_timeout_ms twice,
 * which an old log holds a few of, not thousands.
 */
const REFUSALS_MAX = 1024;

const GENESIS_HASH = '0'.repeat(64);

/** When the content chain takes in the data's own hash: at every this many entries, for databases up to this size. */
export interface DataCheckSettings {
  every_entries: number;
  bytes_max: number;
}

/**
 * Hashing 32 MiB of images takes ~30 ms here: every 4096 entries that is under
 * 10 µs an entry, where a write costs the master ~250 µs.
 */
export const DATA_CHECK_DEFAULT: DataCheckSettings = { every_entries: 4096, bytes_max: 32 * 1024 * 1024 };
const HEADER_LENGTH_BYTES = 4;

/** An image loaded beside the applied state, not yet in place (AppliedState.prepare). */
export interface PreparedState {
  readonly header: { applied_index: number; state_hash: string; content_hash: string };
  readonly restore: PreparedRestore;
}

export class AppliedState {
  readonly engine: Engine;
  private appliedIndex = 0;
  private stateHash = GENESIS_HASH;
  private contentHash = GENESIS_HASH;
  /** Entries this node tried and will not run (apply-gate.ts), by index, with the term they had and the error that stands for their result. */
  private readonly refusals = new Map<number, { term: number; error: ErrorBody }>();

  constructor(
    readonly limits?: EngineLimits,
    readonly data_check: DataCheckSettings = DATA_CHECK_DEFAULT,
  ) {
    this.engine = new Engine(limits);
  }

  get applied_index(): number {
    return this.appliedIndex;
  }

  get state_hash(): string {
    return this.stateHash;
  }

  get content_hash(): string {
    return this.contentHash;
  }

  /**
   * Applies one committed entry; returns the engine's result (null for the
   * no-op). An entry whose data is not a valid command (an old log, a buggy
   * master) is an INVALID_REQUEST result, the same on every node: apply does
   * not throw on what a log holds. Its size is not checked here: the body
   * limit may differ between two runs of the same log.
   */
  apply(entry: Entry<LogPayload>): ApplyResult | null {
    if (entry.index !== this.appliedIndex + 1) {
      throw new Error(`apply out of order: entry ${entry.index} after ${this.appliedIndex}`);
    }
    const refusal = this.refusals.get(entry.index);
    const refused = refusal !== undefined && refusal.term === entry.term ? refusal.error : null;
    const result = entry.data === null ? null : refused !== null ? { ok: false as const, error: refused } : this.applyPayload(entry.data);
    this.stateHash = createHash('sha256')
      .update(this.stateHash)
      .update(JSON.stringify([entry.index, entry.term, entry.data]))
      .digest('hex');
    this.contentHash = createHash('sha256')
      .update(this.contentHash)
      .update(effectText(entry.index, result, this.dataHashAt(entry.index)))
      .digest('hex');
    this.appliedIndex = entry.index;
    return result;
  }

  /**
   * From now on, applying the entry at `index` of `term` does not run it: its
   * result is `error`, and the hash chains go on as if it had been its result
   * (every node that refuses it alike stays the same as the others).
   */
  refuse(index: number, term: number, error: ErrorBody): void {
    this.refusals.set(index, { term, error });
    for (const oldest of this.refusals.keys()) {
      if (this.refusals.size <= REFUSALS_MAX) break;
      this.refusals.delete(oldest);
    }
  }

  /** The data's hash at the indexes the content chain takes it in (undefined elsewhere, null when too large). */
  private dataHashAt(index: number): string | null | undefined {
    return index % this.data_check.every_entries === 0 ? this.engine.dataHash(this.data_check.bytes_max) : undefined;
  }

  private applyPayload(data: LogPayload): ApplyResult {
    try {
      checkLogPayload(data, Infinity);
    } catch (error) {
      return { ok: false, error: { code: 'INVALID_REQUEST', message: `the log entry is not a valid command: ${(error as Error).message}` } };
    }
    return this.engine.apply(data.command, data.context);
  }

  /** The snapshot image as parts to write in order, so the database images are not copied again. */
  snapshotParts(): Uint8Array[] {
    const header = Buffer.from(JSON.stringify({ applied_index: this.appliedIndex, state_hash: this.stateHash, content_hash: this.contentHash }));
    const length = Buffer.alloc(HEADER_LENGTH_BYTES);
    length.writeUInt32BE(header.length);
    return [length, header, ...this.engine.snapshotParts()];
  }

  /**
   * Replaces the state with a snapshot image's, or throws and keeps the state
   * as it was when the image is not one (the engine restores into fresh
   * databases before it swaps them in). With `last_index`, the image must
   * have been taken at that index.
   */
  restore(image: Uint8Array, last_index?: number): void {
    this.install(this.prepare(image, last_index));
  }

  /**
   * Loads an image beside the current state, which stays as it is (throws if
   * it is not one, or was not taken at `last_index`); install() then puts it
   * in place, or discard() drops it. One load of a large image, not two.
   */
  prepare(image: Uint8Array, last_index?: number): PreparedState {
    const buffer = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
    const header = readHeader(buffer);
    if (last_index !== undefined && header.applied_index !== last_index) {
      throw new Error(`snapshot image taken at ${header.applied_index}, not at ${last_index}`);
    }
    return { header, restore: this.engine.prepareRestore(buffer.subarray(HEADER_LENGTH_BYTES + header.length)) };
  }

  install(prepared: PreparedState): void {
    this.engine.adopt(prepared.restore);
    this.appliedIndex = prepared.header.applied_index;
    this.stateHash = prepared.header.state_hash;
    this.contentHash = prepared.header.content_hash;
  }

  discard(prepared: PreparedState): void {
    this.engine.discard(prepared.restore);
  }


  close(): void {
    this.engine.close();
  }
}

/** An entry's effect as hashed; apply must not throw, so a result JSON cannot carry (none today) is named, not thrown. */
function effectText(index: number, result: ApplyResult | null, data_hash: string | null | undefined): string {
  try {
    return JSON.stringify(data_hash === undefined ? [index, result] : [index, result, data_hash]);
  } catch {
    return JSON.stringify([index, 'a result JSON cannot carry']);
  }
}

/**
 * An image from before content hashes has none: its state hash stands in, the
 * same on every node that restores the same image.
 */
function readHeader(buffer: Buffer): { length: number; applied_index: number; state_hash: string; content_hash: string } {
  if (buffer.length < HEADER_LENGTH_BYTES) throw new Error('snapshot image: too short for its header');
  const length = buffer.readUInt32BE(0);
  if (length > buffer.length - HEADER_LENGTH_BYTES) throw new Error('snapshot image: its header runs past its end');
  let header: unknown;
  try {
    header = JSON.parse(buffer.subarray(HEADER_LENGTH_BYTES, HEADER_LENGTH_BYTES + length).toString());
  } catch {
    throw new Error('snapshot image: its header is not JSON');
  }
  const { applied_index, state_hash, content_hash = state_hash } = (header ?? {}) as { applied_index?: unknown; state_hash?: unknown; content_hash?: unknown };
  if (!isBoundedCount(applied_index, INDEX_MAX) || !isSha256Hex(state_hash) || !isSha256Hex(content_hash)) {
    throw new Error('snapshot image: its header is malformed');
  }
  return { length, applied_index, state_hash, content_hash };
}
