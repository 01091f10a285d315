/**
 * Recovery after crashes and faults, with real files: torn tails cut at every
 * byte, garbage after the last record, corruption in the middle (refused), and
 * a crash at each step of saveSnapshot.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Entry, Snapshot } from '../../src/replication/messages';
import { hard, snapshotAt, useTempDirs } from '../support/storage';
import { LOG_FILE_NAME, SNAPSHOT_FILE_NAME, Storage, type Recovered } from '../../src/replication/storage';
import { encodeJsonFrame } from '../../src/replication/storage-frames';

type Data = string | null;

const freshDir = useTempDirs('ddb-storage-recovery-');

function entries(from: number, to: number, term: number, tag = 'e'): Entry<Data>[] {
  const result: Entry<Data>[] = [];
  for (let index = from; index <= to; index += 1) result.push({ index, term, data: `${tag}${index}` });
  return result;
}

function open(dir: string): Storage<Data> {
  return Storage.open<Data>({ dir, fsync: false });
}

function recoverAndClose(dir: string): Recovered<Data> {
  const storage = open(dir);
  const recovered = storage.recovered();
  storage.close();
  return recovered;
}

function logPath(dir: string): string {
  return path.join(dir, LOG_FILE_NAME);
}

/** A log of two saves; returns the log bytes and where the second record starts. */
function twoRecordLog(): { bytes: Buffer; secondStart: number } {
  const dir = freshDir();
  const storage = open(dir);
  storage.save({ hard_state: hard(1, 1), entries: entries(1, 3, 1) });
  const secondStart = fs.statSync(logPath(dir)).size;
  storage.save({ hard_state: hard(2, 2, 3), entries: entries(4, 5, 2) });
  storage.close();
  return { bytes: fs.readFileSync(logPath(dir)), secondStart };
}

const AFTER_FIRST: Omit<Recovered<Data>, 'torn_bytes'> = { hard_state: hard(1, 1), snapshot: null, entries: entries(1, 3, 1) };
const AFTER_SECOND: Omit<Recovered<Data>, 'torn_bytes'> = {
  hard_state: hard(2, 2, 3),
  snapshot: null,
  entries: [...entries(1, 3, 1), ...entries(4, 5, 2)],
};

describe('a torn last record', () => {
  test('cut at every byte offset: recovery gives the records before it, then appends survive a reopen', () => {
    const { bytes, secondStart } = twoRecordLog();
    expect(bytes.length - secondStart).toBeGreaterThan(50);
    for (let cut = secondStart; cut < bytes.length; cut += 1) {
      const dir = freshDir();
      fs.writeFileSync(logPath(dir), bytes.subarray(0, cut));
      const storage = open(dir);
      expect({ ...storage.recovered(), cut }).toEqual({ ...AFTER_FIRST, torn_bytes: cut - secondStart, cut });
      // The torn bytes are gone from the file, so the next record follows the good ones.
      expect(fs.statSync(logPath(dir)).size).toBe(secondStart);
      storage.save({ hard_state: null, entries: entries(4, 4, 1, 'retry') });
      storage.close();
      expect(recoverAndClose(dir)).toEqual({
        ...AFTER_FIRST,
        entries: [...entries(1, 3, 1), ...entries(4, 4, 1, 'retry')],
        torn_bytes: 0,
      });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a cut inside the first record leaves an empty log', () => {
    const { bytes, secondStart } = twoRecordLog();
    for (const cut of [1, 7, 8, 9, secondStart - 1]) {
      const dir = freshDir();
      fs.writeFileSync(logPath(dir), bytes.subarray(0, cut));
      expect(recoverAndClose(dir)).toEqual({ hard_state: hard(0, null), snapshot: null, entries: [], torn_bytes: cut });
    }
  });

  // What a crash can leave past the last complete record: zeros where the file
  // grew but the data did not reach the disk, or a partial header, or noise.
  const garbage: Array<[string, Buffer]> = [
    ['one zero byte', Buffer.alloc(1)],
    ['a zeroed header', Buffer.alloc(8)],
    ['a zero-filled block', Buffer.alloc(4096)],
    ['0xff bytes', Buffer.alloc(20, 0xff)],
    ['a header claiming more bytes than the file has', Buffer.from([0x40, 0, 0, 0, 1, 2, 3, 4, 5, 6])],
    ['a header with a wrong checksum and its full payload', Buffer.concat([Buffer.from([4, 0, 0, 0, 9, 9, 9, 9]), Buffer.from('null')])],
    ['seeded noise', seededBytes(97, 12345)],
  ];

  test.each(garbage)('garbage after the last record (%s) is dropped', (_name, tail) => {
    const { bytes } = twoRecordLog();
    const dir = freshDir();
    fs.writeFileSync(logPath(dir), Buffer.concat([bytes, tail]));
    const storage = open(dir);
    expect(storage.recovered()).toEqual({ ...AFTER_SECOND, torn_bytes: tail.length });
    storage.save({ hard_state: null, entries: entries(6, 6, 2) });
    storage.close();
    expect(recoverAndClose(dir).entries).toEqual([...AFTER_SECOND.entries, ...entries(6, 6, 2)]);
  });
});

function seededBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed;
  for (let offset = 0; offset < length; offset += 1) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[offset] = state >>> 24;
  }
  return bytes;
}

describe('corruption before the last record is refused', () => {
  test('a flipped byte anywhere in a record followed by a good one makes open throw', () => {
    const { bytes, secondStart } = twoRecordLog();
    for (let offset = 0; offset < secondStart; offset += 1) {
      const dir = freshDir();
      const damaged = Buffer.from(bytes);
      damaged[offset] ^= 0x5a;
      fs.writeFileSync(logPath(dir), damaged);
      expect(() => open(dir)).toThrow(/corrupt frame at byte 0 is followed by a valid frame/);
      // Refusing to recover must not "repair" the file either.
      expect(fs.readFileSync(logPath(dir)).equals(damaged)).toBe(true);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bytes missing from the middle make open throw', () => {
    const { bytes, secondStart } = twoRecordLog();
    const dir = freshDir();
    fs.writeFileSync(logPath(dir), Buffer.concat([bytes.subarray(0, 20), bytes.subarray(secondStart)]));
    expect(() => open(dir)).toThrow(/corrupt frame/);
  });

  test('a record with a valid checksum that is not a log record makes open throw', () => {
    const { bytes } = twoRecordLog();
    for (const [json, message] of [
      ['not json', /not JSON/],
      ['{"hard_state":null}', /not a log record/],
      ['{"hard_state":null,"entries":[{"index":9,"term":2,"data":null}]}', /do not fit/],
    ] as const) {
      const dir = freshDir();
      fs.writeFileSync(logPath(dir), Buffer.concat([bytes, encodeJsonFrame(json)]));
      expect(() => open(dir)).toThrow(message);
    }
  });

  test('a damaged snapshot file makes open throw', () => {
    const dir = freshDir();
    const storage = open(dir);
    storage.save({ hard_state: hard(1, null), entries: entries(1, 5, 1) });
    storage.saveSnapshot(snapshotAt(3, 1));
    storage.close();
    const snapshotPath = path.join(dir, SNAPSHOT_FILE_NAME);
    const damaged = fs.readFileSync(snapshotPath);
    damaged[damaged.length - 2] ^= 1;
    fs.writeFileSync(snapshotPath, damaged);
    expect(() => open(dir)).toThrow(/damaged snapshot file/);
  });

  test('a snapshot whose log was deleted makes open throw rather than forget the vote', () => {
    const dir = freshDir();
    const storage = open(dir);
    storage.save({ hard_state: hard(1, 1), entries: entries(1, 2, 1) });
    storage.saveSnapshot(snapshotAt(2, 1));
    storage.close();
    fs.rmSync(logPath(dir));
    expect(() => open(dir)).toThrow(/missing beside a snapshot/);
  });
});

describe('a crash during saveSnapshot', () => {
  /** A log of 1..8 (terms 1 and 2) and hard state term 2, on which saveSnapshot will crash. */
  function prepared(): { dir: string; storage: Storage<Data> } {
    const dir = freshDir();
    const storage = open(dir);
    storage.save({ hard_state: hard(2, 1, 8), entries: [...entries(1, 4, 1), ...entries(5, 8, 2)] });
    return { dir, storage };
  }

  /** Makes the n-th (1-based) call of a file-system function throw, as a crash at that point would stop the work. */
  function crashAt(name: 'renameSync' | 'fsyncSync' | 'writeSync', callNumber: number): void {
    const original = fs[name] as (...args: unknown[]) => unknown;
    let calls = 0;
    jest.spyOn(fs, name).mockImplementation(((...args: unknown[]) => {
      calls += 1;
      if (calls === callNumber) throw new Error(`simulated crash at ${name} #${callNumber}`);
      return original.apply(fs, args);
    }) as never);
  }

  function crashSnapshot(storage: Storage<Data>, snapshot: Snapshot): void {
    expect(() => storage.saveSnapshot(snapshot)).toThrow(/simulated crash/);
    jest.restoreAllMocks();
    expect(() => storage.save({ hard_state: null, entries: entries(9, 9, 2) })).toThrow(/failed earlier/);
    storage.close();
  }

  const OLD = { hard_state: hard(2, 1, 8), snapshot: null, entries: [...entries(1, 4, 1), ...entries(5, 8, 2)], torn_bytes: 0 };

  test('leftover temporary files are ignored and removed', () => {
    const { dir, storage } = prepared();
    storage.close();
    fs.writeFileSync(path.join(dir, `${SNAPSHOT_FILE_NAME}.tmp`), 'half a snapshot');
    fs.writeFileSync(path.join(dir, `${LOG_FILE_NAME}.tmp`), Buffer.alloc(100, 7));
    expect(recoverAndClose(dir)).toEqual(OLD);
    expect(fs.readdirSync(dir)).toEqual([LOG_FILE_NAME]);
  });

  test.each([
    ['writing the snapshot', 'writeSync', 1],
    ['fsyncing the snapshot', 'fsyncSync', 1],
    ['renaming the snapshot', 'renameSync', 1],
  ] as const)('before the snapshot is installed (%s): the old state', (_step, name, callNumber) => {
    const { dir, storage } = prepared();
    storage.close();
    // fsync on, so that the fsync steps exist to crash at.
    const durable = Storage.open<Data>({ dir, fsync: true });
    crashAt(name, callNumber);
    crashSnapshot(durable, snapshotAt(6, 2));
    expect(recoverAndClose(dir)).toEqual(OLD);
    expect(fs.readdirSync(dir)).toEqual([LOG_FILE_NAME]);
  });

  test.each([
    ['fsyncing the directory after the snapshot rename', 'fsyncSync', 2],
    // The snapshot file is four writes: the meta frame, then header, format byte and image.
    ['writing the new log', 'writeSync', 5],
    ['renaming the new log', 'renameSync', 2],
  ] as const)('after the snapshot is installed (%s): the new state, log rewrite finished', (_step, name, callNumber) => {
    const { dir, storage } = prepared();
    storage.close();
    const durable = Storage.open<Data>({ dir, fsync: true });
    crashAt(name, callNumber);
    crashSnapshot(durable, snapshotAt(6, 2));
    const expected = { hard_state: hard(2, 1, 8), snapshot: snapshotAt(6, 2), entries: entries(7, 8, 2), torn_bytes: 0 };
    expect(recoverAndClose(dir)).toEqual(expected);
    // Recovery rewrote the log, so it holds nothing the snapshot covers and appends fit.
    const storageAfter = open(dir);
    storageAfter.save({ hard_state: null, entries: entries(9, 9, 2) });
    storageAfter.close();
    expect(recoverAndClose(dir).entries).toEqual(entries(7, 9, 2));
  });

  test('a snapshot that disagrees with the log, then a crash before the log rewrite: the log is dropped and stays dropped', () => {
    const { dir, storage } = prepared();
    storage.save({ hard_state: hard(3, null), entries: [] });
    crashAt('renameSync', 2);
    crashSnapshot(storage, snapshotAt(6, 3));
    const recovered = recoverAndClose(dir);
    expect(recovered.snapshot?.meta).toEqual({ last_index: 6, last_term: 3 });
    expect(recovered.entries).toEqual([]);
    // New entries after the snapshot must not be lost to the old log's disagreeing entry 6.
    const storageAfter = open(dir);
    storageAfter.save({ hard_state: null, entries: entries(7, 7, 3, 'new') });
    storageAfter.close();
    expect(recoverAndClose(dir).entries).toEqual(entries(7, 7, 3, 'new'));
  });

  test('a snapshot ahead of the log, then a crash before the log rewrite: every entry is dropped', () => {
    const { dir, storage } = prepared();
    crashAt('renameSync', 2);
    crashSnapshot(storage, snapshotAt(50, 2));
    expect(recoverAndClose(dir)).toEqual({ hard_state: hard(2, 1, 8), snapshot: snapshotAt(50, 2), entries: [], torn_bytes: 0 });
  });

  test('a second snapshot crashing before its log rewrite keeps the first compaction consistent', () => {
    const { dir, storage } = prepared();
    storage.saveSnapshot(snapshotAt(3, 1));
    storage.save({ hard_state: null, entries: entries(9, 10, 2) });
    crashAt('renameSync', 2);
    crashSnapshot(storage, snapshotAt(7, 2));
    expect(recoverAndClose(dir)).toEqual({ hard_state: hard(2, 1, 8), snapshot: snapshotAt(7, 2), entries: entries(8, 10, 2), torn_bytes: 0 });
  });
});
