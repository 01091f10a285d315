/**
 * A simulated disk for the node-level simulator, and the storage a node opens
 * on it (LogStorage, the interface src/replication/storage.ts implements on
 * a real disk; test/unit/storage-contract.test.ts holds both to one contract).
 *
 * What it models is what a crash can do to an append-only log: a batch is
 * written, then fsynced; a crash before the fsync ends keeps any prefix of the
 * batches written since the last one (each record reached the platter or
 * not; a torn record is dropped whole by its checksum). A commit index that
 * went out with no record is lost. A snapshot is replaced atomically: a crash
 * during a compaction's install leaves the old one or the new one. The
 * simulator may also wipe a disk (a node restarted with `--in-memory`, or
 * whose data directory was deleted).
 */
import type { DurableState, Entry, HardState, Snapshot } from '../../../src/replication/messages';
import { mustSync } from '../../../src/replication/sync-policy';
import type { LogStorage, PreparedSnapshot, Recovered, StorageBatch } from '../../../src/replication/storage';
import { entriesKeptBySnapshot } from '../../../src/replication/storage';
import type { Random } from '../../support/random';
import type { NodeLife } from './sim-clock';
import type { Scheduler } from './scheduler';

const INITIAL_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

/** Where the simulator may strike in an fsync; 'none' lets it complete. */
export type SyncFault = 'none' | 'crash_before_durable' | 'crash_after_durable';

export interface DiskHooks {
  /** Asked as each fsync completes. */
  syncFault(): SyncFault;
  /** The node dies in its fsync (the simulator crashes it). */
  crashNode(why: string): void;
  /** Entries that just became durable, for the checker. */
  persisted(entries: readonly Entry<unknown>[]): void;
  /** Milliseconds an fsync or a snapshot write takes. */
  latencyMs(): number;
}

function imageOf(data: Uint8Array | readonly Uint8Array[]): Uint8Array {
  return data instanceof Uint8Array ? new Uint8Array(data) : new Uint8Array(Buffer.concat(data));
}

export class SimDisk<T> {
  hard_state: HardState = { ...INITIAL_HARD_STATE };
  snapshot: Snapshot | null = null;
  /** Durable entries after the snapshot, contiguous. */
  entries: Entry<T>[] = [];
  /** Records written since the last fsync, oldest first; a crash keeps a prefix. */
  unsynced: StorageBatch<T>[] = [];
  /** A compaction's snapshot being put in place; a crash leaves it installed or not. */
  installing: PreparedSnapshot | null = null;
  wipes = 0;

  snapshotIndex(): number {
    return this.snapshot?.meta.last_index ?? 0;
  }

  termAt(index: number): number | null {
    const snapshot_index = this.snapshotIndex();
    if (index === snapshot_index) return this.snapshot?.meta.last_term ?? 0;
    if (index < snapshot_index) return null;
    return this.entries[index - snapshot_index - 1]?.term ?? null;
  }

  lastIndex(): number {
    return this.snapshotIndex() + this.entries.length;
  }

  lastTerm(): number {
    return this.termAt(this.lastIndex()) as number;
  }

  /** Makes a written record durable: entries overwrite the suffix from their first index on. */
  applyRecord(record: StorageBatch<T>): void {
    if (record.hard_state !== null) this.hard_state = { ...record.hard_state };
    if (record.entries.length === 0) return;
    const keep = (record.entries[0] as Entry<T>).index - this.snapshotIndex() - 1;
    if (keep < 0 || keep > this.entries.length) throw new Error(`sim disk: entries from ${record.entries[0]?.index} leave a gap`);
    this.entries.length = keep;
    for (const entry of record.entries) this.entries.push(entry);
  }

  installSnapshot(snapshot: Snapshot): void {
    this.entries = entriesKeptBySnapshot(this.entries, snapshot.meta);
    this.snapshot = snapshot;
  }

  /** The machine died: each record written since the last fsync survived or not, in order. */
  crash(random: Random): void {
    const kept = random.integer(0, this.unsynced.length);
    for (const record of this.unsynced.slice(0, kept)) this.applyRecord(record);
    this.unsynced = [];
    if (this.installing !== null && random.chance(0.5)) {
      const prepared = this.installing;
      this.installSnapshot({ meta: prepared.meta, data: prepared.data as Uint8Array });
    }
    this.installing = null;
  }

  /** Disk loss: the node comes back with nothing. */
  wipe(): void {
    this.hard_state = { ...INITIAL_HARD_STATE };
    this.snapshot = null;
    this.entries = [];
    this.unsynced = [];
    this.installing = null;
    this.wipes += 1;
  }

  /** What a node finds at start: a copy, so nothing it does later reaches the disk but through storage. */
  durableState(): DurableState<T> {
    return structuredClone({ hard_state: this.hard_state, snapshot: this.snapshot, entries: this.entries });
  }
}

/** The storage one life of a node opens on its disk. */
export class SimStorage<T> implements LogStorage<T> {
  private recovered_state: Recovered<T>;
  /** The newest hard state given to write(), on disk unless a record has yet to carry it. */
  private latest_hard_state: HardState;
  private syncing = false;

  constructor(
    private readonly disk: SimDisk<T>,
    private readonly scheduler: Scheduler,
    private readonly life: NodeLife,
    private readonly hooks: DiskHooks,
  ) {
    this.recovered_state = { ...disk.durableState(), torn_bytes: 0 };
    this.latest_hard_state = { ...disk.hard_state };
  }

  recovered(): Recovered<T> {
    return this.recovered_state;
  }

  releaseRecovered(): void {
    this.recovered_state = { ...this.recovered_state, snapshot: null, entries: [] };
  }

  save(batch: StorageBatch<T>): void {
    if (this.write(batch)) this.makeDurable();
  }

  write(batch: StorageBatch<T>): boolean {
    if (this.syncing) throw new Error('sim storage: written while a sync is in flight');
    const sync = mustSync(this.latest_hard_state, batch.hard_state, batch.entries.length);
    if (batch.hard_state !== null) this.latest_hard_state = { ...batch.hard_state };
    if (!sync) return false;
    this.disk.unsynced.push({ hard_state: { ...this.latest_hard_state }, entries: batch.entries });
    return true;
  }

  sync(done: (error: Error | null) => void): void {
    this.syncing = true;
    this.scheduler.after(this.hooks.latencyMs(), this.life.guard(() => {
      const fault = this.hooks.syncFault();
      if (fault === 'crash_before_durable') return this.hooks.crashNode('in its fsync, before the batch was durable');
      this.makeDurable();
      if (fault === 'crash_after_durable') return this.hooks.crashNode('after its fsync, before it went on');
      this.syncing = false;
      done(null);
    }));
  }

  saveSnapshot(snapshot: { meta: Snapshot['meta']; data: Uint8Array | readonly Uint8Array[] }): void {
    this.makeDurable();
    this.disk.hard_state = { ...this.latest_hard_state };
    this.disk.installSnapshot({ meta: { ...snapshot.meta }, data: imageOf(snapshot.data) });
  }

  prepareSnapshot(snapshot: { meta: Snapshot['meta']; data: Uint8Array | readonly Uint8Array[] }): Promise<PreparedSnapshot> {
    const prepared = { meta: { ...snapshot.meta }, file: null, data: imageOf(snapshot.data) };
    return new Promise((resolve) => this.scheduler.after(this.hooks.latencyMs(), this.life.guard(() => resolve(prepared))));
  }

  installPrepared(prepared: PreparedSnapshot): Promise<boolean> {
    if (prepared.meta.last_index <= this.disk.snapshotIndex()) return Promise.resolve(false);
    this.disk.installing = prepared;
    return new Promise((resolve) =>
      this.scheduler.after(this.hooks.latencyMs(), this.life.guard(() => {
        this.disk.installing = null;
        this.disk.installSnapshot({ meta: prepared.meta, data: prepared.data as Uint8Array });
        resolve(true);
      })),
    );
  }

  loadSnapshot(): Promise<Snapshot | null> {
    const snapshot = this.disk.snapshot;
    return Promise.resolve(snapshot === null ? null : { meta: { ...snapshot.meta }, data: new Uint8Array(snapshot.data) });
  }

  /** A clean stop writes the commit index no record carried yet, as Storage.close() does. */
  close(): void {
    this.makeDurable();
    this.disk.hard_state = { ...this.latest_hard_state };
  }

  private makeDurable(): void {
    const records = this.disk.unsynced;
    this.disk.unsynced = [];
    for (const record of records) {
      this.disk.applyRecord(record);
      this.hooks.persisted(record.entries);
    }
  }
}
