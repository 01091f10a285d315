/**
 * The pure parts of storage: framing, the torn-tail rule, log replay and the
 * snapshot rule, as table tests over buffers (no files).
 */
import type { Entry } from '../../src/replication/messages';
import {
  FRAME_HEADER_BYTES,
  encodeFrameParts,
  encodeJsonFrame,
  scanFrames,
  validFrameEnd,
} from '../../src/replication/storage-frames';
import {
  decodeSnapshotFile,
  encodeLogInRecords,
  encodeLogRecord,
  encodeSnapshotFile,
  entriesKeptBySnapshot,
  replayLog,
} from '../../src/replication/storage-records';

function entries(from: number, to: number, term: number): Entry<string>[] {
  const result: Entry<string>[] = [];
  for (let index = from; index <= to; index += 1) result.push({ index, term, data: `d${index}` });
  return result;
}

describe('frames', () => {
  test('a frame is [u32 length][u32 crc32][payload], little-endian', () => {
    const frame = encodeJsonFrame('{"a":1}');
    expect(frame.readUInt32LE(0)).toBe(7);
    expect(frame.subarray(FRAME_HEADER_BYTES).toString()).toBe('{"a":1}');
    expect(validFrameEnd(frame, 0)).toBe(frame.length);
  });

  test('the checksum covers the length as well as the payload', () => {
    const two = Buffer.concat([encodeJsonFrame('"abcdef"'), encodeJsonFrame('"x"')]);
    const lengthDamaged = Buffer.from(two);
    lengthDamaged.writeUInt32LE(3, 0);
    expect(validFrameEnd(lengthDamaged, 0)).toBeNull();
  });

  test('parts framed without copying read back as one payload', () => {
    const parts = encodeFrameParts([Buffer.from('ab'), new Uint8Array([0, 1, 2])]);
    const buffer = Buffer.concat(parts);
    expect(scanFrames(buffer, 'f').payloads.map((payload) => [...payload])).toEqual([[0x61, 0x62, 0, 1, 2]]);
  });

  test('an empty payload is refused: a zeroed header must never read as a frame', () => {
    expect(() => encodeJsonFrame('')).toThrow(/outside/);
    expect(validFrameEnd(Buffer.alloc(16), 0)).toBeNull();
  });

  test.each([
    ['a clean file', Buffer.alloc(0), 2, 0],
    ['a partial header', Buffer.from([1, 0]), 2, 2],
    ['a payload running past the end', encodeJsonFrame('"long payload"').subarray(0, 12), 2, 12],
    ['zeros', Buffer.alloc(64), 2, 64],
  ])('scan: two frames then %s', (_name, tail, frameCount, tornBytes) => {
    const good = Buffer.concat([encodeJsonFrame('1'), encodeJsonFrame('2')]);
    const scan = scanFrames(Buffer.concat([good, tail]), 'f');
    expect(scan.payloads.length).toBe(frameCount);
    expect(scan).toMatchObject({ valid_bytes: good.length, torn_bytes: tornBytes });
  });

  test('scan: a bad frame followed by a valid one throws, naming both offsets', () => {
    const first = encodeJsonFrame('"first"');
    const damaged = Buffer.concat([first, encodeJsonFrame('"second"'), encodeJsonFrame('"third"')]);
    damaged[first.length + FRAME_HEADER_BYTES + 2] ^= 1;
    expect(() => scanFrames(damaged, 'the-log')).toThrow(/the-log: corrupt frame at byte 15 is followed by a valid frame at byte 31/);
  });
});

describe('log records', () => {
  test('replay applies hard states in order and suffix replacement', () => {
    const payloads = [
      encodeLogRecord({ hard_state: { term: 1, vote: 1, commit: 0 }, entries: entries(1, 5, 1) }),
      encodeLogRecord({ hard_state: null, entries: entries(3, 4, 2) }),
      encodeLogRecord({ hard_state: { term: 2, vote: null, commit: 2 }, entries: [] }),
      encodeLogRecord({ hard_state: null, entries: entries(5, 5, 2) }),
    ].map((frame) => frame.subarray(FRAME_HEADER_BYTES));
    expect(replayLog<string>(payloads, 'f')).toEqual({
      hard_state: { term: 2, vote: null, commit: 2 },
      entries: [...entries(1, 2, 1), ...entries(3, 5, 2)],
    });
  });

  test.each([
    ['a gap', [entries(1, 2, 1), entries(4, 4, 1)], /do not fit the log holding 1..2/],
    ['a start before the log', [entries(5, 6, 1), entries(4, 4, 1)], /do not fit the log holding 5..6/],
    ['indexes that are not contiguous', [[...entries(1, 1, 1), ...entries(3, 3, 1)]], /not contiguous at 3/],
  ])('replay refuses %s', (_name, batches, message) => {
    const payloads = batches.map((list) => encodeLogRecord({ hard_state: null, entries: list }).subarray(FRAME_HEADER_BYTES));
    expect(() => replayLog(payloads, 'f')).toThrow(message);
  });

  test('a rewritten log is cut into records near the target size, hard state first', () => {
    const list = entries(11, 40, 3);
    const frames = encodeLogInRecords({ term: 3, vote: 2, commit: 30 }, list, 100);
    expect(frames.length).toBeGreaterThan(5);
    const scan = scanFrames(Buffer.concat(frames), 'f');
    expect(replayLog<string>(scan.payloads, 'f')).toEqual({ hard_state: { term: 3, vote: 2, commit: 30 }, entries: list });
    expect(encodeLogInRecords({ term: 1, vote: null, commit: 0 }, [], 100)).toHaveLength(1);
  });
});

describe('entriesKeptBySnapshot (Raft InstallSnapshot rule)', () => {
  const log = [...entries(4, 6, 1), ...entries(7, 9, 2)];
  test.each([
    ['inside the log, terms agree', 7, 2, [8, 9]],
    ['at the last entry', 9, 2, []],
    ['inside the log, terms disagree', 7, 3, []],
    ['ahead of the log', 20, 2, []],
    ['right before the log: already compacted there', 3, 1, [4, 5, 6, 7, 8, 9]],
  ])('%s', (_name, last_index, last_term, kept) => {
    expect(entriesKeptBySnapshot(log, { last_index, last_term }).map((entry) => entry.index)).toEqual(kept);
  });

  test('a log starting after a gap is refused; an empty log keeps nothing', () => {
    expect(() => entriesKeptBySnapshot(log, { last_index: 2, last_term: 1 })).toThrow(/gap/);
    expect(entriesKeptBySnapshot([], { last_index: 2, last_term: 1 })).toEqual([]);
  });
});

describe('snapshot files', () => {
  test('meta and image round trip; the image is a view of the file buffer, not a copy (a large image would double the memory)', () => {
    const image = new Uint8Array([9, 8, 7]);
    const file = Buffer.concat(encodeSnapshotFile({ meta: { last_index: 12, last_term: 3 }, data: image }));
    const snapshot = decodeSnapshotFile(file, 's');
    expect(snapshot).toEqual({ meta: { last_index: 12, last_term: 3 }, data: image });
    expect(snapshot.data.buffer).toBe(file.buffer);
  });

  test.each([
    ['cut short', (file: Buffer) => file.subarray(0, file.length - 1)],
    ['with a third frame', (file: Buffer) => Buffer.concat([file, encodeJsonFrame('1')])],
    ['with bad meta', () => Buffer.concat([encodeJsonFrame('{"last_index":-1,"last_term":0}'), ...encodeFrameParts([Uint8Array.of(1)])])],
    ['with an unknown image format', () => Buffer.concat([encodeJsonFrame('{"last_index":1,"last_term":1}'), ...encodeFrameParts([Uint8Array.of(2)])])],
  ])('a snapshot file %s is refused', (_name, damage) => {
    const file = Buffer.concat(encodeSnapshotFile({ meta: { last_index: 1, last_term: 1 }, data: new Uint8Array([1, 2]) }));
    expect(() => decodeSnapshotFile(damage(file), 's')).toThrow(/snapshot/);
  });
});
