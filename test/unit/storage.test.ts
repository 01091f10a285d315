/**
 * Storage round trips through real files: every test opens, writes, closes and
 * reopens in a fresh temporary directory, and checks what recovery gives back.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Entry } from '../../src/replication/messages';
import { hard, snapshotAt, useTempDirs } from '../support/storage';
import {
  InMemoryStorage,
  LOG_FILE_NAME,
  SNAPSHOT_FILE_NAME,
  Storage,
  openStorage,
  type LogStorage,
  type StorageBatch,
} from '../../src/replication/storage';

type Data = { op: string; n?: number } | string | null;

const freshDir = useTempDirs('ddb-storage-');

function entries(from: number, to: number, term: number, tag = 'x'): Entry<Data>[] {
  const result: Entry<Data>[] = [];
  for (let index = from; index <= to; index += 1) result.push({ index, term, data: { op: tag, n: index } });
  return result;
}

/** Opens (fsync off for speed, except where fsync is the point), runs, closes, reopens. */
function withStorage(dir: string, work: (storage: Storage<Data>) => void): Storage<Data> {
  const storage = Storage.open<Data>({ dir, fsync: false });
  work(storage);
  storage.close();
  return Storage.open<Data>({ dir, fsync: false });
}

function indexes(list: Entry<Data>[]): number[] {
  return list.map((entry) => entry.index);
}

describe('Storage round trips', () => {
  test('a fresh directory recovers empty and is created if missing', () => {
    const dir = path.join(freshDir(), 'nested', 'data');
    const storage = Storage.open<Data>({ dir, fsync: true });
    expect(storage.recovered()).toEqual({ hard_state: hard(0, null), snapshot: null, entries: [], torn_bytes: 0 });
    expect(fs.readdirSync(dir)).toEqual([LOG_FILE_NAME]);
    storage.close();
  });

  test('hard state and entries survive a reopen', () => {
    const dir = freshDir();
    const batch1: StorageBatch<Data> = { hard_state: hard(1, 2), entries: entries(1, 3, 1) };
    const reopened = withStorage(dir, (storage) => {
      storage.save(batch1);
      storage.save({ hard_state: hard(2, null, 3), entries: [{ index: 4, term: 2, data: null }] });
      storage.save({ hard_state: null, entries: [{ index: 5, term: 2, data: 'ünïcödé \u2028 "quoted"' }] });
    });
    expect(reopened.recovered()).toEqual({
      hard_state: hard(2, null, 3),
      snapshot: null,
      entries: [...entries(1, 3, 1), { index: 4, term: 2, data: null }, { index: 5, term: 2, data: 'ünïcödé \u2028 "quoted"' }],
      torn_bytes: 0,
    });
    reopened.close();
  });

  test('only index, term and data of an entry are stored', () => {
    const dir = freshDir();
    const extra = { index: 1, term: 1, data: 'a', junk: 'not stored' } as Entry<Data>;
    const reopened = withStorage(dir, (storage) => storage.save({ hard_state: hard(1, null), entries: [extra] }));
    expect(reopened.recovered().entries).toEqual([{ index: 1, term: 1, data: 'a' }]);
    reopened.close();
  });

  test('a batch starting inside the log replaces the stored suffix', () => {
    const dir = freshDir();
    const reopened = withStorage(dir, (storage) => {
      storage.save({ hard_state: hard(1, 1), entries: entries(1, 5, 1) });
      storage.save({ hard_state: hard(2, 2), entries: entries(3, 3, 2, 'new') });
    });
    expect(reopened.recovered().entries).toEqual([...entries(1, 2, 1), ...entries(3, 3, 2, 'new')]);
    // Appending after the overwrite continues from the new end, and survives another reopen.
    reopened.save({ hard_state: null, entries: entries(4, 6, 2, 'after') });
    reopened.close();
    const again = Storage.open<Data>({ dir, fsync: false });
    expect(again.recovered().entries).toEqual([...entries(1, 2, 1), ...entries(3, 3, 2, 'new'), ...entries(4, 6, 2, 'after')]);
    again.close();
  });

  test('overwriting from the first index replaces the whole log', () => {
    const dir = freshDir();
    const reopened = withStorage(dir, (storage) => {
      storage.save({ hard_state: hard(1, 1), entries: entries(1, 4, 1) });
      storage.save({ hard_state: hard(3, 3), entries: entries(1, 2, 3, 'other') });
    });
    expect(reopened.recovered().entries).toEqual(entries(1, 2, 3, 'other'));
    reopened.close();
  });

  test('an empty batch writes nothing', () => {
    const dir = freshDir();
    const storage = Storage.open<Data>({ dir, fsync: true });
    storage.save({ hard_state: hard(1, null), entries: [] });
    const size = fs.statSync(path.join(dir, LOG_FILE_NAME)).size;
    const fsync = jest.spyOn(fs, 'fsyncSync');
    storage.save({ hard_state: null, entries: [] });
    expect(fsync).not.toHaveBeenCalled();
    expect(fs.statSync(path.join(dir, LOG_FILE_NAME)).size).toBe(size);
    storage.close();
  });
});

describe('Storage snapshots', () => {
  test('a snapshot drops the entries it covers and keeps the ones after it', () => {
    const dir = freshDir();
    const logPath = path.join(dir, LOG_FILE_NAME);
    let sizeBefore = 0;
    const reopened = withStorage(dir, (storage) => {
      storage.save({ hard_state: hard(2, 1, 8), entries: [...entries(1, 4, 1), ...entries(5, 10, 2)] });
      sizeBefore = fs.statSync(logPath).size;
      storage.saveSnapshot(snapshotAt(6, 2));
    });
    const recovered = reopened.recovered();
    expect(recovered.hard_state).toEqual(hard(2, 1, 8));
    expect(recovered.snapshot?.meta).toEqual({ last_index: 6, last_term: 2 });
    expect(new TextDecoder().decode(recovered.snapshot?.data)).toBe('image@6');
    expect(recovered.entries).toEqual(entries(7, 10, 2));
    // The log was rewritten, not appended to: it holds only what is left.
    expect(fs.statSync(logPath).size).toBeLessThan(sizeBefore);
    reopened.save({ hard_state: null, entries: entries(11, 12, 2) });
    reopened.close();
    const again = Storage.open<Data>({ dir, fsync: false });
    expect(indexes(again.recovered().entries)).toEqual([7, 8, 9, 10, 11, 12]);
    again.close();
  });

  test('a snapshot after a suffix was replaced keeps the replacing entries, not the replaced ones', () => {
    const dir = freshDir();
    const reopened = withStorage(dir, (storage) => {
      storage.save({ hard_state: hard(1, 1), entries: entries(1, 8, 1, 'old') });
      storage.save({ hard_state: hard(2, 2), entries: entries(5, 9, 2, 'new') });
      storage.saveSnapshot(snapshotAt(6, 2));
    });
    expect(reopened.recovered().entries).toEqual(entries(7, 9, 2, 'new'));
    reopened.close();
  });

  test('a snapshot at the last entry leaves an empty log that the next save continues', () => {
    const dir = freshDir();
    const reopened = withStorage(dir, (storage) => {
      storage.save({ hard_state: hard(1, null), entries: entries(1, 5, 1) });
      storage.saveSnapshot(snapshotAt(5, 1));
      storage.save({ hard_state: null, entries: entries(6, 6, 1) });
    });
    expect(reopened.recovered().snapshot?.meta).toEqual({ last_index: 5, last_term: 1 });
    expect(reopened.recovered().entries).toEqual(entries(6, 6, 1));
    reopened.close();
  });

  test('a received snapshot ahead of every stored entry drops them all', () => {
    const dir = freshDir();
    const reopened = withStorage(dir, (storage) => {
      storage.save({ hard_state: hard(3, null), entries: entries(1, 5, 1) });
      storage.saveSnapshot(snapshotAt(20, 3));
      expect(() => storage.save({ hard_state: null, entries: entries(6, 6, 3) })).toThrow(/do not fit/);
      storage.save({ hard_state: null, entries: entries(21, 22, 3) });
    });
    expect(reopened.recovered().snapshot?.meta).toEqual({ last_index: 20, last_term: 3 });
    expect(reopened.recovered().entries).toEqual(entries(21, 22, 3));
    expect(reopened.recovered().hard_state).toEqual(hard(3, null));
    reopened.close();
  });

  test('a received snapshot that disagrees with the log at its last index drops every entry (Raft)', () => {
    const dir = freshDir();
    const reopened = withStorage(dir, (storage) => {
      storage.save({ hard_state: hard(4, null), entries: entries(1, 8, 1) });
      storage.saveSnapshot(snapshotAt(5, 4));
    });
    expect(reopened.recovered().entries).toEqual([]);
    reopened.close();
  });

  test('at most one snapshot file is kept and the newest wins', () => {
    const dir = freshDir();
    const reopened = withStorage(dir, (storage) => {
      storage.save({ hard_state: hard(1, null), entries: entries(1, 30, 1) });
      storage.saveSnapshot(snapshotAt(10, 1, 'first'));
      storage.saveSnapshot(snapshotAt(20, 1, 'second'));
      storage.saveSnapshot(snapshotAt(20, 1, 'second again'));
    });
    expect(fs.readdirSync(dir).sort()).toEqual([LOG_FILE_NAME, SNAPSHOT_FILE_NAME]);
    expect(new TextDecoder().decode(reopened.recovered().snapshot?.data)).toBe('second again');
    expect(indexes(reopened.recovered().entries)).toEqual(entries(21, 30, 1).map((entry) => entry.index));
    reopened.close();
  });

  test('empty and large binary images round trip byte for byte', () => {
    const dir = freshDir();
    const image = new Uint8Array(3 * 1024 * 1024);
    for (let offset = 0; offset < image.length; offset += 1) image[offset] = (offset * 7919) % 256;
    const reopened = withStorage(dir, (storage) => {
      storage.save({ hard_state: hard(1, null), entries: entries(1, 3, 1) });
      storage.saveSnapshot({ meta: { last_index: 1, last_term: 1 }, data: new Uint8Array(0) });
      storage.saveSnapshot({ meta: { last_index: 2, last_term: 1 }, data: image });
    });
    expect(Buffer.from(reopened.recovered().snapshot!.data).equals(Buffer.from(image))).toBe(true);
    reopened.close();
    const emptyDir = freshDir();
    const empty = withStorage(emptyDir, (storage) => storage.saveSnapshot({ meta: { last_index: 0, last_term: 0 }, data: new Uint8Array(0) }));
    expect(empty.recovered().snapshot?.data).toEqual(new Uint8Array(0));
    empty.close();
  });

  test('a log kept across a snapshot is rewritten in several records when large', () => {
    const dir = freshDir();
    const big = 'y'.repeat(100_000);
    const list: Entry<Data>[] = [];
    for (let index = 1; index <= 40; index += 1) list.push({ index, term: 1, data: `${index}:${big}` });
    const reopened = withStorage(dir, (storage) => {
      storage.save({ hard_state: hard(1, 1, 2), entries: list });
      storage.saveSnapshot(snapshotAt(2, 1));
    });
    expect(reopened.recovered().entries).toEqual(list.slice(2));
    reopened.close();
  });
});

describe('Storage refuses what Raft never does, before writing anything', () => {
  function prepared(): { dir: string; storage: Storage<Data> } {
    const dir = freshDir();
    const storage = Storage.open<Data>({ dir, fsync: false });
    storage.save({ hard_state: hard(2, 1), entries: [...entries(1, 3, 1), ...entries(4, 5, 2)] });
    return { dir, storage };
  }

  const cases: Array<[string, StorageBatch<Data>, RegExp]> = [
    ['a gap after the log', { hard_state: null, entries: entries(7, 7, 2) }, /do not fit/],
    ['an index 0', { hard_state: null, entries: [{ index: 0, term: 2, data: null }] }, /do not fit/],
    ['indexes that skip', { hard_state: null, entries: [...entries(6, 6, 2), ...entries(8, 8, 2)] }, /not contiguous/],
    ['a term below the previous entry', { hard_state: null, entries: entries(6, 6, 1) }, /below the previous/],
    ['entries of a term never stored', { hard_state: null, entries: entries(6, 6, 3) }, /save the hard state first/],
    ['a lower term', { hard_state: hard(1, null), entries: [] }, /below the stored term/],
    ['a second vote in a term', { hard_state: hard(2, 3), entries: [] }, /changes the vote/],
    ['a malformed hard state', { hard_state: { term: -1, vote: null, commit: 0 }, entries: [] }, /malformed/],
    ['undefined data', { hard_state: null, entries: [{ index: 6, term: 2 } as Entry<Data>] }, /malformed/],
  ];

  test.each(cases)('%s', (_name, batch, message) => {
    const { dir, storage } = prepared();
    const size = fs.statSync(path.join(dir, LOG_FILE_NAME)).size;
    expect(() => storage.save(batch)).toThrow(message);
    expect(fs.statSync(path.join(dir, LOG_FILE_NAME)).size).toBe(size);
    // A refused batch does not break the instance.
    storage.save({ hard_state: hard(3, null), entries: entries(6, 6, 3) });
    storage.close();
  });

  test('entries of a new term are accepted with that term in the same batch', () => {
    const { storage } = prepared();
    expect(() => storage.save({ hard_state: hard(3, 3), entries: entries(6, 6, 3) })).not.toThrow();
    storage.close();
  });

  test('snapshots never go back', () => {
    const { storage } = prepared();
    storage.saveSnapshot(snapshotAt(4, 2));
    expect(() => storage.saveSnapshot(snapshotAt(3, 1))).toThrow(/older than the stored one/);
    expect(() => storage.saveSnapshot(snapshotAt(4, 1))).toThrow(/has term 1/);
    expect(() => storage.save({ hard_state: null, entries: entries(4, 4, 2) })).toThrow(/do not fit/);
    storage.close();
  });

  test('a closed storage refuses to save', () => {
    const { storage } = prepared();
    storage.close();
    storage.close();
    expect(() => storage.save({ hard_state: hard(3, null), entries: [] })).toThrow(/closed/);
  });
});

describe('Storage hands snapshot images out from disk', () => {
  test('loadSnapshot reads the latest snapshot, saved or recovered', async () => {
    const dir = freshDir();
    const storage = Storage.open<Data>({ dir, fsync: false });
    await expect(storage.loadSnapshot()).resolves.toBeNull();
    storage.save({ hard_state: hard(1, 1, 4), entries: entries(1, 4, 1) });
    storage.saveSnapshot(snapshotAt(3, 1));
    await expect(storage.loadSnapshot()).resolves.toEqual(snapshotAt(3, 1));
    storage.close();
    const reopened = Storage.open<Data>({ dir, fsync: false });
    await expect(reopened.loadSnapshot()).resolves.toEqual(snapshotAt(3, 1));
    reopened.close();
  });

  test('releaseRecovered drops the recovered image and entries, not the files', async () => {
    const dir = freshDir();
    const reopened = withStorage(dir, (storage) => {
      storage.save({ hard_state: hard(1, 1, 4), entries: entries(1, 4, 1) });
      storage.saveSnapshot(snapshotAt(3, 1));
    });
    expect(reopened.recovered().snapshot).toEqual(snapshotAt(3, 1));
    reopened.releaseRecovered();
    expect(reopened.recovered()).toMatchObject({ hard_state: hard(1, 1, 4), snapshot: null, entries: [] });
    await expect(reopened.loadSnapshot()).resolves.toEqual(snapshotAt(3, 1));
    reopened.close();
  });
});

describe('Storage keeps a new commit index alone off the disk', () => {
  test('a save that only advances the commit index writes and fsyncs nothing', () => {
    const dir = freshDir();
    const storage = Storage.open<Data>({ dir, fsync: true });
    storage.save({ hard_state: hard(1, 1), entries: entries(1, 3, 1) });
    const size = fs.statSync(path.join(dir, LOG_FILE_NAME)).size;
    const fsync = jest.spyOn(fs, 'fsyncSync');
    storage.save({ hard_state: hard(1, 1, 2), entries: [] });
    storage.save({ hard_state: hard(1, 1, 3), entries: [] });
    expect(fsync).not.toHaveBeenCalled();
    expect(fs.statSync(path.join(dir, LOG_FILE_NAME)).size).toBe(size);
    storage.close();
  });

  test('the newest commit index goes out with the next record that is synced', () => {
    const dir = freshDir();
    const storage = Storage.open<Data>({ dir, fsync: false });
    storage.save({ hard_state: hard(1, 1), entries: entries(1, 3, 1) });
    storage.save({ hard_state: hard(1, 1, 3), entries: [] });
    storage.save({ hard_state: null, entries: entries(4, 4, 1) });
    // No close(): what a crash leaves.
    expect(Storage.open<Data>({ dir, fsync: false }).recovered().hard_state).toEqual(hard(1, 1, 3));
  });

  test('a crash loses only the commit index not yet written, and close() writes it', () => {
    const crashed = freshDir();
    const storage = Storage.open<Data>({ dir: crashed, fsync: false });
    storage.save({ hard_state: hard(1, 1, 1), entries: entries(1, 3, 1) });
    storage.save({ hard_state: hard(1, 1, 3), entries: [] });
    expect(Storage.open<Data>({ dir: crashed, fsync: false }).recovered()).toMatchObject({ hard_state: hard(1, 1, 1), entries: entries(1, 3, 1) });

    const closed = withStorage(freshDir(), (each) => {
      each.save({ hard_state: hard(1, 1, 1), entries: entries(1, 3, 1) });
      each.save({ hard_state: hard(1, 1, 3), entries: [] });
    });
    expect(closed.recovered().hard_state).toEqual(hard(1, 1, 3));
  });

  test('a new term or vote is synced even without entries', () => {
    const dir = freshDir();
    const storage = Storage.open<Data>({ dir, fsync: true });
    const fsync = jest.spyOn(fs, 'fsyncSync');
    storage.save({ hard_state: hard(2, null), entries: [] });
    storage.save({ hard_state: hard(2, 3), entries: [] });
    expect(fsync).toHaveBeenCalledTimes(2);
    storage.close();
  });
});

describe('Storage durability calls', () => {
  test('each save() fsyncs exactly once, the log file it wrote', () => {
    const dir = freshDir();
    const storage = Storage.open<Data>({ dir, fsync: true });
    const fsync = jest.spyOn(fs, 'fsyncSync');
    const write = jest.spyOn(fs, 'writeSync');
    const batches: StorageBatch<Data>[] = [
      { hard_state: hard(1, 1), entries: [] },
      { hard_state: null, entries: entries(1, 1, 1) },
      { hard_state: hard(1, 1, 1), entries: entries(2, 51, 1) },
      { hard_state: hard(2, null), entries: entries(10, 12, 2) },
    ];
    for (const batch of batches) {
      fsync.mockClear();
      write.mockClear();
      storage.save(batch);
      expect(fsync).toHaveBeenCalledTimes(1);
      expect(write).toHaveBeenCalledTimes(1);
      expect(fsync.mock.calls[0][0]).toBe(write.mock.calls[0][0]);
    }
    storage.close();
  });

  test('saveSnapshot fsyncs both files and the directory after each rename', () => {
    const dir = freshDir();
    const storage = Storage.open<Data>({ dir, fsync: true });
    storage.save({ hard_state: hard(1, null), entries: entries(1, 5, 1) });
    const fsync = jest.spyOn(fs, 'fsyncSync');
    const rename = jest.spyOn(fs, 'renameSync');
    storage.saveSnapshot(snapshotAt(3, 1));
    expect(rename).toHaveBeenCalledTimes(2);
    expect(fsync).toHaveBeenCalledTimes(4);
    storage.close();
  });

  test('with fsync off nothing is fsynced', () => {
    const dir = freshDir();
    const fsync = jest.spyOn(fs, 'fsyncSync');
    const storage = Storage.open<Data>({ dir, fsync: false });
    storage.save({ hard_state: hard(1, null), entries: entries(1, 5, 1) });
    storage.saveSnapshot(snapshotAt(3, 1));
    expect(fsync).not.toHaveBeenCalled();
    storage.close();
  });

  test('after a failed fsync the instance refuses further use, and reopening recovers', () => {
    const dir = freshDir();
    const storage = Storage.open<Data>({ dir, fsync: true });
    storage.save({ hard_state: hard(1, null), entries: entries(1, 2, 1) });
    jest.spyOn(fs, 'fsyncSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    });
    expect(() => storage.save({ hard_state: null, entries: entries(3, 3, 1) })).toThrow(/EIO/);
    expect(() => storage.save({ hard_state: null, entries: entries(4, 4, 1) })).toThrow(/failed earlier/);
    storage.close();
    const reopened = Storage.open<Data>({ dir, fsync: true });
    // The unsynced batch may or may not have reached the disk; what is there is consistent.
    expect(indexes(reopened.recovered().entries).slice(0, 2)).toEqual([1, 2]);
    reopened.close();
  });
});

describe('InMemoryStorage and openStorage', () => {
  test('in-memory storage recovers nothing, touches no file, and holds only its latest snapshot', async () => {
    const write = jest.spyOn(fs, 'writeSync');
    const storage = InMemoryStorage.open<Data>();
    await expect(storage.loadSnapshot()).resolves.toBeNull();
    storage.save({ hard_state: hard(5, 1), entries: entries(1, 3, 5) });
    storage.saveSnapshot(snapshotAt(2, 5));
    expect(storage.recovered()).toEqual({ hard_state: hard(0, null), snapshot: null, entries: [], torn_bytes: 0 });
    await expect(storage.loadSnapshot()).resolves.toEqual(snapshotAt(2, 5));
    storage.close();
    expect(write).not.toHaveBeenCalled();
  });

  test('openStorage gives in-memory storage for null and durable storage for a directory', () => {
    expect(openStorage<Data>(null)).toBeInstanceOf(InMemoryStorage);
    const dir = freshDir();
    const durable = openStorage<Data>(dir);
    expect(durable).toBeInstanceOf(Storage);
    durable.save({ hard_state: hard(1, null), entries: entries(1, 1, 1) });
    durable.close();
    const reopened = openStorage<Data>(dir);
    expect(reopened.recovered().entries).toEqual(entries(1, 1, 1));
    reopened.close();
  });
});

/** sync(done) as a promise. */
function syncOf(storage: LogStorage<Data>): Promise<void> {
  return new Promise((resolve, reject) => storage.sync((error) => (error === null ? resolve() : reject(error))));
}

describe('write() then sync(): save() in two steps', () => {
  it('says when an fsync is due, runs it off the event loop, and the batch survives a reopen', async () => {
    const dir = freshDir();
    const storage = Storage.open<Data>({ dir, fsync: true });
    const fsyncSync = jest.spyOn(fs, 'fsyncSync');
    const fsync = jest.spyOn(fs, 'fsync');
    expect(storage.write({ hard_state: hard(1, 1), entries: entries(1, 3, 1) })).toBe(true);
    await syncOf(storage);
    expect(fsync).toHaveBeenCalledTimes(1);
    expect(fsyncSync).not.toHaveBeenCalled();
    // A commit index alone needs no sync.
    expect(storage.write({ hard_state: hard(1, 1, 3), entries: [] })).toBe(false);
    storage.close();
    const reopened = Storage.open<Data>({ dir, fsync: true });
    expect(indexes(reopened.recovered().entries)).toEqual([1, 2, 3]);
    expect(reopened.recovered().hard_state).toEqual(hard(1, 1, 3));
    reopened.close();
  });

  it('refuses any use while a sync is in flight, and works again once it settles', async () => {
    const storage = Storage.open<Data>({ dir: freshDir(), fsync: true });
    storage.write({ hard_state: hard(1, 1), entries: entries(1, 1, 1) });
    const syncing = syncOf(storage);
    expect(() => storage.write({ hard_state: null, entries: entries(2, 2, 1) })).toThrow(/sync is in flight/);
    expect(() => storage.saveSnapshot(snapshotAt(1, 1))).toThrow(/sync is in flight/);
    await syncing;
    expect(storage.write({ hard_state: null, entries: entries(2, 2, 1) })).toBe(true);
    await syncOf(storage);
    storage.close();
  });

  it('is never due without fsync, and always empty in memory', () => {
    const storage = Storage.open<Data>({ dir: freshDir(), fsync: false });
    expect(storage.write({ hard_state: hard(1, 1), entries: entries(1, 1, 1) })).toBe(false);
    storage.close();
    expect(InMemoryStorage.open<Data>().write({ hard_state: hard(1, 1), entries: entries(1, 1, 1) })).toBe(false);
  });
});

describe('prepareSnapshot() then installPrepared(): a compaction written off the event loop', () => {
  it('replaces nothing until installed, keeps the entries saved meanwhile, and survives a reopen', async () => {
    const dir = freshDir();
    const storage = Storage.open<Data>({ dir, fsync: true });
    storage.save({ hard_state: hard(2, 1, 6), entries: entries(1, 8, 2) });
    const fsyncSync = jest.spyOn(fs, 'fsyncSync');
    const preparing = storage.prepareSnapshot(snapshotAt(6, 2));
    // The node goes on while the image is written: batches still land in the log.
    expect(storage.write({ hard_state: null, entries: entries(9, 10, 2) })).toBe(true);
    await syncOf(storage);
    const prepared = await preparing;
    expect(fs.existsSync(path.join(dir, SNAPSHOT_FILE_NAME))).toBe(false);
    const installing = storage.installPrepared(prepared);
    // Like sync(): nothing may use the files until the install settles.
    expect(() => storage.write({ hard_state: null, entries: entries(11, 11, 2) })).toThrow(/being installed/);
    expect(await installing).toBe(true);
    expect(fsyncSync).not.toHaveBeenCalled(); // every fsync of prepare and install ran off the event loop
    expect(fs.readdirSync(dir).sort()).toEqual([LOG_FILE_NAME, SNAPSHOT_FILE_NAME]);
    storage.save({ hard_state: null, entries: entries(11, 11, 2) });
    storage.close();

    const reopened = Storage.open<Data>({ dir, fsync: true });
    expect(reopened.recovered().snapshot).toEqual(snapshotAt(6, 2));
    expect(indexes(reopened.recovered().entries)).toEqual([7, 8, 9, 10, 11]);
    expect(reopened.recovered().hard_state).toEqual(hard(2, 1, 6));
    reopened.close();
  });

  it('after a crash before the install, reopens as if nothing was prepared', async () => {
    const dir = freshDir();
    const storage = Storage.open<Data>({ dir, fsync: false });
    storage.save({ hard_state: hard(1, 1), entries: entries(1, 5, 1) });
    storage.saveSnapshot(snapshotAt(2, 1));
    await storage.prepareSnapshot(snapshotAt(4, 1));
    // No installPrepared(), no close(): the process died here.
    const reopened = Storage.open<Data>({ dir, fsync: false });
    expect(reopened.recovered().snapshot).toEqual(snapshotAt(2, 1));
    expect(indexes(reopened.recovered().entries)).toEqual([3, 4, 5]);
    expect(fs.readdirSync(dir).sort()).toEqual([LOG_FILE_NAME, SNAPSHOT_FILE_NAME]);
    reopened.close();
  });

  it('discards a prepared snapshot that a newer one overtook', async () => {
    const dir = freshDir();
    const storage = Storage.open<Data>({ dir, fsync: false });
    storage.save({ hard_state: hard(1, 1), entries: entries(1, 5, 1) });
    const prepared = await storage.prepareSnapshot(snapshotAt(3, 1));
    storage.saveSnapshot(snapshotAt(20, 1)); // from the master, meanwhile
    expect(await storage.installPrepared(prepared)).toBe(false);
    await expect(storage.loadSnapshot()).resolves.toEqual(snapshotAt(20, 1));
    expect(fs.readdirSync(dir).sort()).toEqual([LOG_FILE_NAME, SNAPSHOT_FILE_NAME]);
    storage.close();
  });

  it('prepares one snapshot at a time, and in memory works the same way', async () => {
    const storage = Storage.open<Data>({ dir: freshDir(), fsync: false });
    storage.save({ hard_state: hard(1, 1), entries: entries(1, 5, 1) });
    const first = storage.prepareSnapshot(snapshotAt(3, 1));
    await expect(storage.prepareSnapshot(snapshotAt(4, 1))).rejects.toThrow(/already being prepared/);
    expect(await storage.installPrepared(await first)).toBe(true);
    storage.close();

    const memory = InMemoryStorage.open<Data>();
    const prepared = await memory.prepareSnapshot(snapshotAt(3, 1));
    await expect(memory.loadSnapshot()).resolves.toBeNull();
    expect(await memory.installPrepared(prepared)).toBe(true);
    await expect(memory.loadSnapshot()).resolves.toEqual(snapshotAt(3, 1));
    memory.saveSnapshot(snapshotAt(9, 1));
    expect(await memory.installPrepared(await memory.prepareSnapshot(snapshotAt(5, 1)))).toBe(false);
    await expect(memory.loadSnapshot()).resolves.toEqual(snapshotAt(9, 1));
  });
});
