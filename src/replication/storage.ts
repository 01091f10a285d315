/**
 * Durable term, vote, log and snapshot of one node: Raft's persistent state,
 * written and fsynced before the node answers anything that depends on it.
 *
 * Two files in the data directory (formats in storage-records.ts and
 * storage-frames.ts):
 * - `log.ddb`: append-only, one checksummed record per save(), one fsync per save().
 *   A save() that overwrites a suffix appends a record starting at the overwritten
 *   index; replay applies it the same way, so no save() rewrites old bytes. A save()
 *   that only advances the commit index writes nothing (see sync-policy.ts): the
 *   commit index is kept and goes out with the next record, or at close().
 * - `snapshot.ddb`: the current snapshot, replaced atomically (temporary file,
 *   fsync, rename, fsync directory); the rename drops the previous one. A
 *   compaction's snapshot is written as `snapshot.ddb.prepared` off the event
 *   loop first (prepareSnapshot), then renamed the same way (installPrepared).
 *
 * saveSnapshot() installs the snapshot first and rewrites the log second (again by
 * temporary file and rename), keeping the hard state and only the entries the
 * snapshot does not cover. A crash between the two leaves the new snapshot beside
 * the old log; recovery applies the same rule (entriesKeptBySnapshot) to the old
 * log, so it ends where saveSnapshot() would have, and finishes the rewrite. The
 * log is never rewritten before the snapshot that covers what it drops is durable.
 *
 * Programmer errors (a save() that would leave a gap, lower the term, change a vote
 * within a term) throw before anything is written. A failed write or fsync leaves
 * the files in an unknown state, so the instance refuses further use: the node
 * should exit and recover by reopening (retrying an fsync after it failed is not
 * safe on Linux, the kernel may have dropped the dirty pages).
 */
import { INDEX_MAX, TERM_MAX, isBoundedCount } from './bounds';
import fs from 'node:fs';
import path from 'node:path';
import type { DurableState, Entry, HardState, Snapshot, SnapshotMeta } from './messages';
import { mustSync } from './sync-policy';
import { scanFrames } from './storage-frames';
import {
  EMPTY_SNAPSHOT_META,
  INITIAL_HARD_STATE,
  decodeSnapshotFile,
  encodeLogInRecords,
  encodeLogRecord,
  encodeSnapshotFile,
  entriesKeptBySnapshot,
  imageParts,
  isEntry,
  isHardState,
  replayLog,
  type ReplayedLog,
  type SnapshotToSave,
} from './storage-records';
import {
  fsyncDirectoryAsync,
  readFileIfExists,
  readFileIfExistsAsync,
  removeTemporary,
  replaceFileDurably,
  replaceFileDurablyAsync,
  truncateDurably,
  writeAll,
  writeFileDurablyAsync,
} from './storage-files';

export { entriesKeptBySnapshot } from './storage-records';

export interface StorageOptions {
  dir: string;
  /** False only in tests that want speed; the product always fsyncs. */
  fsync: boolean;
}

/** What open() found: the durable state, and how much of a torn last record it dropped. */
export interface Recovered<T> extends DurableState<T> {
  /** Bytes of a torn last record dropped at open (a crash mid-save); 0 normally. For the node to log. */
  torn_bytes: number;
}

export interface StorageBatch<T> {
  hard_state: HardState | null;
  entries: Entry<T>[];
}

/** What the node needs from storage; Storage and InMemoryStorage both provide it. */
export interface LogStorage<T> {
  recovered(): Recovered<T>;
  /** Drops the recovered snapshot image once the node has restored it: it can be large. */
  releaseRecovered(): void;
  /** write() then an fsync before returning: durable when it returns. */
  save(batch: StorageBatch<T>): void;
  /**
   * save() in two steps, so the node can work while the disk syncs: write() puts
   * the batch in the file and says whether an fsync is due; sync() is that fsync,
   * off the event loop, calling `done` when it ends (with the error if it failed).
   * Nothing may be written until it has.
   */
  write(batch: StorageBatch<T>): boolean;
  sync(done: (error: Error | null) => void): void;
  saveSnapshot(snapshot: SnapshotToSave): void;
  /**
   * saveSnapshot() in two steps, both off the event loop, so the node keeps
   * serving while a large image reaches the disk. prepareSnapshot() writes and
   * fsyncs it beside the current snapshot, replacing nothing; the log may be
   * written meanwhile. installPrepared() renames it into place and rewrites the
   * log as saveSnapshot() does; like sync(), nothing may use the storage until
   * it settles. A prepared snapshot that a newer one (saveSnapshot from the
   * master) overtook is discarded: installPrepared() resolves false.
   */
  prepareSnapshot(snapshot: SnapshotToSave): Promise<PreparedSnapshot>;
  installPrepared(prepared: PreparedSnapshot): Promise<boolean>;
  /**
   * The latest snapshot saved or recovered, image included; null if there is
   * none. Read off the event loop: a large image took the master's thread
   * for longer than a fail-over timeout.
   */
  loadSnapshot(): Promise<Snapshot | null>;
  close(): void;
}

/** A snapshot written and fsynced by prepareSnapshot(), not yet in place. */
export interface PreparedSnapshot {
  meta: SnapshotMeta;
  /** Where it waits (Storage), or its image (InMemoryStorage). */
  file: string | null;
  data: Uint8Array | null;
}

export const LOG_FILE_NAME = 'log.ddb';
export const SNAPSHOT_FILE_NAME = 'snapshot.ddb';
/** A rewritten log is cut into records of about this size, far below the frame limit. */
export const REWRITE_RECORD_BYTES_TARGET = 1024 * 1024;

interface StoragePaths {
  log: string;
  snapshot: string;
  /** A prepared snapshot waits here; not the temporary file of saveSnapshot(), which may run meanwhile. */
  prepared: string;
}

function storagePaths(dir: string): StoragePaths {
  const snapshot = path.join(dir, SNAPSHOT_FILE_NAME);
  return { log: path.join(dir, LOG_FILE_NAME), snapshot, prepared: `${snapshot}.prepared` };
}

export class Storage<T> implements LogStorage<T> {
  private readonly paths: StoragePaths;
  private fd: number | null;
  /** The newest hard state given to save(); on disk unless hardStateUnsynced. */
  private hardState: HardState;
  private hardStateUnsynced = false;
  private snapshotMeta: SnapshotMeta;
  /**
   * The stored entries after the snapshot, entries[i] at index snapshotMeta.last_index + 1 + i:
   * what save() checks against, and what a snapshot's log rewrite keeps, so the
   * rewrite never reads the file back. They are the entry objects the node's
   * log holds too: an array of references, not copies.
   */
  private entries: Entry<T>[];
  private failure: Error | null = null;
  /** An fsync from sync() is running; nothing else may touch the file until it settles. */
  private syncing = false;
  /** prepareSnapshot() is writing the prepared file; one at a time. */
  private preparing = false;
  /** installPrepared() is replacing the files; nothing else may touch them until it settles. */
  private installing = false;

  private constructor(
    private readonly options: StorageOptions,
    private state: Recovered<T>,
  ) {
    this.paths = storagePaths(options.dir);
    this.hardState = state.hard_state;
    this.snapshotMeta = state.snapshot?.meta ?? EMPTY_SNAPSHOT_META;
    this.entries = [...state.entries];
    this.fd = fs.openSync(this.paths.log, 'a');
  }

  /** Creates the directory if missing and recovers what is there. Throws on corruption. */
  static open<T>(options: StorageOptions): Storage<T> {
    fs.mkdirSync(options.dir, { recursive: true });
    const paths = storagePaths(options.dir);
    // Temporary files are the remains of a replacement a crash interrupted: garbage.
    removeTemporary(paths.log);
    removeTemporary(paths.snapshot);
    fs.rmSync(paths.prepared, { force: true });
    const snapshotBytes = readFileIfExists(paths.snapshot);
    const snapshot = snapshotBytes === null ? null : decodeSnapshotFile(snapshotBytes, paths.snapshot);
    const { log, torn_bytes } = recoverLog<T>(paths.log, snapshot !== null, options.fsync);
    const meta = snapshot?.meta ?? EMPTY_SNAPSHOT_META;
    const entries = entriesKeptBySnapshot(log.entries, meta);
    const hardState = log.hard_state ?? { ...INITIAL_HARD_STATE };
    // Entries the snapshot covers mean a crash came between installing the
    // snapshot and rewriting the log: finish the rewrite, so appends fit the log.
    if (log.entries.length > 0 && log.entries[0].index <= meta.last_index) {
      replaceFileDurably(paths.log, encodeLogInRecords(hardState, entries, REWRITE_RECORD_BYTES_TARGET), options.fsync);
    }
    return new Storage<T>(options, { hard_state: hardState, snapshot, entries, torn_bytes });
  }

  /** The state found at open(); it does not follow later saves. */
  recovered(): Recovered<T> {
    return this.state;
  }

  releaseRecovered(): void {
    this.state = { ...this.state, snapshot: null, entries: [] };
  }

  /** Reads the snapshot file: the image is kept on disk, not in memory, between the rare times a slave needs it. */
  async loadSnapshot(): Promise<Snapshot | null> {
    this.usableFd();
    const bytes = await readFileIfExistsAsync(this.paths.snapshot);
    return bytes === null ? null : decodeSnapshotFile(bytes, this.paths.snapshot);
  }

  /**
   * Durably records a batch: optional new hard state, then entries. If
   * entries[0].index is at or below the last stored index, the stored suffix from
   * that index on is replaced. One write and one fsync, or nothing at all when the
   * batch needs no sync (only a new commit index, or empty).
   */
  save(batch: StorageBatch<T>): void {
    if (this.write(batch)) this.fsyncNow();
  }

  /** save() without its fsync; true when one is due (see LogStorage.write). */
  write(batch: StorageBatch<T>): boolean {
    const fd = this.usableFd();
    if (batch.hard_state !== null) assertHardStateFollows(this.hardState, batch.hard_state);
    const term = (batch.hard_state ?? this.hardState).term;
    if (batch.entries.length > 0) this.assertEntriesFit(batch.entries, term);
    const sync = mustSync(this.hardState, batch.hard_state, batch.entries.length);
    if (batch.hard_state !== null) {
      this.hardState = { ...batch.hard_state };
      this.hardStateUnsynced = true;
    }
    if (!sync) return false;
    this.writeRecord(fd, { hard_state: this.hardStateUnsynced ? this.hardState : null, entries: batch.entries });
    if (batch.entries.length > 0) {
      this.entries.length = batch.entries[0].index - this.snapshotMeta.last_index - 1;
      for (const entry of batch.entries) this.entries.push(entry);
    }
    return this.options.fsync;
  }

  /** The fsync write() asked for, on libuv's thread pool. A failure makes this instance unusable, as in guard(). */
  sync(done: (error: Error | null) => void): void {
    const fd = this.usableFd();
    this.syncing = true;
    fs.fsync(fd, (error) => {
      this.syncing = false;
      if (error !== null) this.failure = error;
      done(error);
    });
  }

  /**
   * Atomically stores a snapshot, then rewrites the log with the hard state and
   * the entries the snapshot leaves (entriesKeptBySnapshot: those after it if the
   * log agrees with it at its last index, none otherwise).
   */
  saveSnapshot(snapshot: SnapshotToSave): void {
    this.usableFd();
    const meta = { last_index: snapshot.meta.last_index, last_term: snapshot.meta.last_term };
    this.assertSnapshotFollows(meta, snapshot.data);
    this.guard(() => {
      replaceFileDurably(this.paths.snapshot, encodeSnapshotFile(snapshot), this.options.fsync);
      this.rewriteLogAfter(meta);
    });
  }

  async prepareSnapshot(snapshot: SnapshotToSave): Promise<PreparedSnapshot> {
    this.usableFd();
    if (this.preparing) throw new Error(`storage in ${this.options.dir}: a snapshot is already being prepared`);
    const meta = { last_index: snapshot.meta.last_index, last_term: snapshot.meta.last_term };
    this.assertSnapshotFollows(meta, snapshot.data);
    this.preparing = true;
    try {
      await this.guardAsync(() => writeFileDurablyAsync(this.paths.prepared, encodeSnapshotFile(snapshot), this.options.fsync));
    } finally {
      this.preparing = false;
    }
    return { meta, file: this.paths.prepared, data: null };
  }

  async installPrepared(prepared: PreparedSnapshot): Promise<boolean> {
    this.usableFd();
    if (prepared.file !== this.paths.prepared) throw new Error('installPrepared: not a snapshot this storage prepared');
    if (prepared.meta.last_index <= this.snapshotMeta.last_index) {
      fs.rmSync(prepared.file, { force: true });
      return false;
    }
    this.installing = true;
    try {
      await this.guardAsync(async () => {
        // The snapshot is durable in place before the log drops what it covers.
        await fs.promises.rename(prepared.file as string, this.paths.snapshot);
        await fsyncDirectoryAsync(this.options.dir, this.options.fsync);
        const log = this.logAfter(prepared.meta);
        await replaceFileDurablyAsync(this.paths.log, log.records, this.options.fsync);
        this.logReplaced(prepared.meta, log.kept);
      });
    } finally {
      this.installing = false;
    }
    return true;
  }

  /** Writes the commit index that has not gone out with a record yet, so a clean restart applies all it can at once. */
  close(): void {
    if (this.hardStateUnsynced && this.fd !== null && this.failure === null && !this.syncing && !this.installing) {
      this.writeRecord(this.fd, { hard_state: this.hardState, entries: [] });
      this.fsyncNow();
    }
    this.closeFd();
  }

  /** The second half of installing a snapshot, once it is durable in place. Runs inside guard(). */
  private rewriteLogAfter(meta: SnapshotMeta): void {
    const log = this.logAfter(meta);
    replaceFileDurably(this.paths.log, log.records, this.options.fsync);
    this.logReplaced(meta, log.kept);
  }

  /**
   * The log a snapshot at `meta` leaves: the hard state and the entries after it
   * (entriesKeptBySnapshot: those after it if the log agrees with it at its
   * last index, none otherwise), as records to write.
   */
  private logAfter(meta: SnapshotMeta): { kept: Entry<T>[]; records: Uint8Array[] } {
    const kept = entriesKeptBySnapshot(this.entries, meta);
    return { kept, records: encodeLogInRecords(this.hardState, kept, REWRITE_RECORD_BYTES_TARGET) };
  }

  /** The log file was replaced by one that holds the hard state and `kept`, after the snapshot at `meta`. */
  private logReplaced(meta: SnapshotMeta, kept: Entry<T>[]): void {
    // The open descriptor still points at the replaced file (unless close() came meanwhile).
    if (this.fd === null) return;
    this.closeFd();
    this.fd = fs.openSync(this.paths.log, 'a');
    this.snapshotMeta = meta;
    this.entries = kept;
    this.hardStateUnsynced = false;
  }

  /** Appends one record; the caller fsyncs (fsyncNow or sync) before relying on it. */
  private writeRecord(fd: number, batch: StorageBatch<T>): void {
    const frame = encodeLogRecord(batch);
    this.guard(() => writeAll(fd, [frame]));
    this.hardStateUnsynced = false;
  }

  private fsyncNow(): void {
    const fd = this.usableFd();
    if (this.options.fsync) this.guard(() => fs.fsyncSync(fd));
  }

  private closeFd(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    fs.closeSync(fd);
  }

  private usableFd(): number {
    if (this.failure !== null) {
      throw new Error(`storage in ${this.options.dir} failed earlier (${this.failure.message}); reopen it to recover`);
    }
    if (this.fd === null) throw new Error(`storage in ${this.options.dir} is closed`);
    if (this.syncing) throw new Error(`storage in ${this.options.dir}: used while a sync is in flight`);
    if (this.installing) throw new Error(`storage in ${this.options.dir}: used while a snapshot is being installed`);
    return this.fd;
  }

  /** guard() for work off the event loop. */
  private async guardAsync(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.failure = error as Error;
      throw error;
    }
  }

  /** Runs file work; if it throws, the files are in an unknown state and this instance is done. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.failure = error as Error;
      throw error;
    }
  }

  private assertEntriesFit(entries: Entry<T>[], term: number): void {
    const first = entries[0].index;
    const base = this.snapshotMeta.last_index;
    const last = base + this.entries.length;
    if (!Number.isSafeInteger(first) || first <= base || first > last + 1) {
      throw new Error(`entries from index ${String(first)} do not fit the stored log ${base + 1}..${last} (snapshot at ${base})`);
    }
    let previousTerm = first - 1 === base ? this.snapshotMeta.last_term : (this.entries[first - base - 2] as Entry<T>).term;
    entries.forEach((entry, offset) => {
      if (!isEntry(entry) || entry.index !== first + offset) {
        throw new Error(`entry ${offset} of the batch is malformed or not contiguous (index ${String(entry.index)})`);
      }
      if (entry.term < previousTerm) throw new Error(`entry ${entry.index} has term ${entry.term}, below the previous ${previousTerm}`);
      previousTerm = entry.term;
    });
    // Raft's current term is never below a term in the log; a crash must not recover one that is.
    if (previousTerm > term) {
      throw new Error(`entries of term ${previousTerm} saved while the term is ${term}: save the hard state first or in the same batch`);
    }
  }

  private assertSnapshotFollows(meta: SnapshotMeta, data: unknown): void {
    const current = this.snapshotMeta;
    if (!isBoundedCount(meta.last_index, INDEX_MAX) || !isBoundedCount(meta.last_term, TERM_MAX)) {
      throw new Error(`snapshot meta is malformed: ${JSON.stringify(meta)}`);
    }
    if (!imageParts(data as SnapshotToSave['data']).every((part) => part instanceof Uint8Array)) throw new Error('snapshot data must be a Uint8Array or parts of one');
    if (meta.last_index < current.last_index) {
      throw new Error(`snapshot at index ${meta.last_index} is older than the stored one at ${current.last_index}`);
    }
    if (meta.last_index === current.last_index && meta.last_term !== current.last_term) {
      throw new Error(`snapshot at index ${meta.last_index} has term ${meta.last_term}, the stored one ${current.last_term}`);
    }
  }
}

/** Term never goes down, and a vote once cast in a term never changes: both are Raft safety. */
function assertHardStateFollows(stored: HardState, next: HardState): void {
  if (!isHardState(next)) throw new Error(`hard state is malformed: ${JSON.stringify(next)}`);
  if (next.term < stored.term) throw new Error(`hard state term ${next.term} is below the stored term ${stored.term}`);
  if (next.term === stored.term && stored.vote !== null && next.vote !== stored.vote) {
    throw new Error(`hard state changes the vote of term ${next.term} from ${stored.vote} to ${String(next.vote)}`);
  }
}

/**
 * Reads the log file, dropping (and durably cutting off) a torn last record. A
 * missing log beside a snapshot means the term and vote are gone: refuse, because
 * starting from term 0 could vote twice in a term.
 */
function recoverLog<T>(logPath: string, snapshotExists: boolean, fsync: boolean): { log: ReplayedLog<T>; torn_bytes: number } {
  const bytes = readFileIfExists(logPath);
  if (bytes === null) {
    if (snapshotExists) throw new Error(`${logPath} is missing beside a snapshot: the term and vote are lost`);
    replaceFileDurably(logPath, [], fsync);
    return { log: { hard_state: null, entries: [] }, torn_bytes: 0 };
  }
  const scan = scanFrames(bytes, logPath);
  if (scan.torn_bytes > 0) truncateDurably(logPath, scan.valid_bytes, fsync);
  return { log: replayLog<T>(scan.payloads, logPath), torn_bytes: scan.torn_bytes };
}

/**
 * Storage for `--in-memory` nodes: nothing survives the process, so a restarted
 * node comes back empty (documented). It holds the latest snapshot in memory
 * for slaves that need it. A separate class rather than a Storage option so
 * Storage has no "is anything durable?" branches.
 */
export class InMemoryStorage<T> implements LogStorage<T> {
  private snapshot: Snapshot | null = null;

  static open<T>(): InMemoryStorage<T> {
    return new InMemoryStorage<T>();
  }

  recovered(): Recovered<T> {
    return { hard_state: { ...INITIAL_HARD_STATE }, snapshot: null, entries: [], torn_bytes: 0 };
  }

  releaseRecovered(): void {}

  save(_batch: StorageBatch<T>): void {}

  write(_batch: StorageBatch<T>): boolean {
    return false;
  }

  sync(done: (error: Error | null) => void): void {
    done(null);
  }

  saveSnapshot(snapshot: SnapshotToSave): void {
    const data = snapshot.data instanceof Uint8Array ? snapshot.data : Buffer.concat(snapshot.data);
    this.snapshot = { meta: { ...snapshot.meta }, data };
  }

  prepareSnapshot(snapshot: SnapshotToSave): Promise<PreparedSnapshot> {
    const data = snapshot.data instanceof Uint8Array ? snapshot.data : Buffer.concat(snapshot.data);
    return Promise.resolve({ meta: { ...snapshot.meta }, file: null, data });
  }

  installPrepared(prepared: PreparedSnapshot): Promise<boolean> {
    if (prepared.data === null) throw new Error('installPrepared: not a snapshot this storage prepared');
    if (this.snapshot !== null && prepared.meta.last_index <= this.snapshot.meta.last_index) return Promise.resolve(false);
    this.snapshot = { meta: { ...prepared.meta }, data: prepared.data };
    return Promise.resolve(true);
  }

  loadSnapshot(): Promise<Snapshot | null> {
    return Promise.resolve(this.snapshot);
  }

  close(): void {}
}

/**
 * The node's one call: durable, always-fsynced storage in `dir`, or none when
 * `dir` is null (`--in-memory`).
 */
export function openStorage<T>(dir: string | null): LogStorage<T> {
  if (dir === null) return InMemoryStorage.open<T>();
  return Storage.open<T>({ dir, fsync: true });
}
