/**
 * One contract for both implementations of LogStorage: Storage on a real
 * disk (what a node process uses) and SimStorage on the simulator's disk
 * (what the node-level simulator uses). What one promises about durability
 * across a reopen, suffix overwrites, snapshots and compaction, the other
 * must too, or the simulator would test a node that does not exist.
 */
import type { Entry } from '../../src/replication/messages';
import { type LogStorage, Storage } from '../../src/replication/storage';
import { Random } from '../support/random';
import { hard, snapshotAt, useTempDirs } from '../support/storage';
import { Scheduler } from '../sim/node/scheduler';
import { NodeLife } from '../sim/node/sim-clock';
import { SimDisk, SimStorage } from '../sim/node/sim-disk';

type Data = string;

/** Opens storage on one disk, as many times as a test restarts its node; settles what is asynchronous. */
interface Harness {
  open(): LogStorage<Data>;
  settle<T>(promise: Promise<T>): Promise<T>;
}

const freshDir = useTempDirs('ddb-storage-contract-');

function diskHarness(): Harness {
  const dir = freshDir();
  return { open: () => Storage.open<Data>({ dir, fsync: true }), settle: (promise) => promise };
}

function simHarness(): Harness {
  const scheduler = new Scheduler();
  const disk = new SimDisk<Data>();
  const hooks = { syncFault: () => 'none' as const, crashNode: () => undefined, persisted: () => undefined, latencyMs: () => 1 };
  return {
    open: () => new SimStorage<Data>(disk, scheduler, new NodeLife(scheduler), hooks),
    settle: async (promise) => {
      let settled = false;
      void promise.finally(() => (settled = true)).catch(() => undefined);
      while (!settled) await scheduler.runUntil(scheduler.now_ms() + 1);
      return promise;
    },
  };
}

function entries(first: number, last: number, term: number): Entry<Data>[] {
  return Array.from({ length: last - first + 1 }, (_unused, offset) => ({ index: first + offset, term, data: `e${first + offset}t${term}` }));
}

function syncOf(storage: LogStorage<Data>): Promise<void> {
  return new Promise((resolve, reject) => storage.sync((error) => (error === null ? resolve() : reject(error))));
}

const implementations: [string, () => Harness][] = [
  ['Storage (disk)', diskHarness],
  ['SimStorage (simulated disk)', simHarness],
];

describe.each(implementations)('%s', (_name, make) => {
  it('says when an fsync is due, and what was synced survives a reopen', async () => {
    const harness = make();
    const storage = harness.open();
    expect(storage.write({ hard_state: hard(1, 1), entries: entries(1, 3, 1) })).toBe(true);
    await harness.settle(syncOf(storage));
    // A commit index alone needs no sync.
    expect(storage.write({ hard_state: hard(1, 1, 2), entries: [] })).toBe(false);
    const reopened = harness.open();
    expect(reopened.recovered().entries).toEqual(entries(1, 3, 1));
    expect(reopened.recovered().hard_state.term).toBe(1);
    expect(reopened.recovered().hard_state.vote).toBe(1);
  });

  it('overwrites the suffix from the first index of a batch on', async () => {
    const harness = make();
    const storage = harness.open();
    storage.write({ hard_state: hard(1, 1), entries: entries(1, 4, 1) });
    await harness.settle(syncOf(storage));
    storage.write({ hard_state: hard(2, 2), entries: entries(3, 3, 2) });
    await harness.settle(syncOf(storage));
    expect(harness.open().recovered().entries).toEqual([...entries(1, 2, 1), ...entries(3, 3, 2)]);
  });

  it('a clean close keeps the commit index that no record carried yet', async () => {
    const harness = make();
    const storage = harness.open();
    storage.write({ hard_state: hard(1, 1), entries: entries(1, 3, 1) });
    await harness.settle(syncOf(storage));
    storage.write({ hard_state: hard(1, 1, 3), entries: [] });
    storage.close();
    expect(harness.open().recovered().hard_state).toEqual(hard(1, 1, 3));
  });

  it("a master's snapshot replaces the log it covers and keeps what follows when the terms agree", async () => {
    const harness = make();
    const storage = harness.open();
    storage.write({ hard_state: hard(2, 1), entries: entries(1, 6, 2) });
    await harness.settle(syncOf(storage));
    storage.saveSnapshot(snapshotAt(4, 2));
    expect((await storage.loadSnapshot())?.meta).toEqual({ last_index: 4, last_term: 2 });
    const recovered = harness.open().recovered();
    expect(recovered.snapshot?.meta).toEqual({ last_index: 4, last_term: 2 });
    expect(recovered.entries).toEqual(entries(5, 6, 2));
  });

  it("drops the whole log when the snapshot's last entry disagrees with it", async () => {
    const harness = make();
    const storage = harness.open();
    storage.write({ hard_state: hard(3, 1), entries: entries(1, 6, 1) });
    await harness.settle(syncOf(storage));
    storage.saveSnapshot(snapshotAt(4, 3));
    expect(harness.open().recovered().entries).toEqual([]);
  });

  it('installs a prepared compaction, and discards one a newer snapshot overtook', async () => {
    const harness = make();
    const storage = harness.open();
    storage.write({ hard_state: hard(2, 1), entries: entries(1, 8, 2) });
    await harness.settle(syncOf(storage));
    const prepared = await harness.settle(storage.prepareSnapshot(snapshotAt(5, 2)));
    expect(await harness.settle(storage.installPrepared(prepared))).toBe(true);
    expect(harness.open().recovered().entries).toEqual(entries(6, 8, 2));
    const older = await harness.settle(storage.prepareSnapshot(snapshotAt(6, 2)));
    storage.saveSnapshot(snapshotAt(7, 2));
    expect(await harness.settle(storage.installPrepared(older))).toBe(false);
    expect(harness.open().recovered().snapshot?.meta).toEqual({ last_index: 7, last_term: 2 });
  });

  it('refuses a write while a sync is in flight', async () => {
    const harness = make();
    const storage = harness.open();
    storage.write({ hard_state: hard(1, 1), entries: entries(1, 1, 1) });
    const syncing = syncOf(storage);
    expect(() => storage.write({ hard_state: null, entries: entries(2, 2, 1) })).toThrow(/sync is in flight/);
    await harness.settle(syncing);
  });
});

describe('the simulated disk after a crash', () => {
  it('keeps what was synced, and of the batches written since, a prefix', async () => {
    for (let seed = 1; seed <= 20; seed += 1) {
      const harness = simHarness();
      const disk = (harness.open() as unknown as { disk: SimDisk<Data> }).disk;
      const storage = harness.open();
      storage.write({ hard_state: hard(1, 1), entries: entries(1, 2, 1) });
      await harness.settle(syncOf(storage));
      storage.write({ hard_state: null, entries: entries(3, 3, 1) });
      disk.crash(new Random(seed));
      const indexes = harness.open().recovered().entries.map((entry) => entry.index);
      expect([[1, 2], [1, 2, 3]]).toContainEqual(indexes);
    }
  });
});
