import fc from 'fast-check';
import { ReplicatedLog } from '../../src/replication/log';
import type { Entry } from '../../src/replication/messages';

function entries(first_index: number, terms: number[]): Entry<string>[] {
  return terms.map((term, offset) => ({ index: first_index + offset, term, data: `e${first_index + offset}t${term}` }));
}

function emptyLog(): ReplicatedLog<string> {
  return new ReplicatedLog<string>({ snapshot_meta: { last_index: 0, last_term: 0 }, entries: [], commit_index: 0 });
}

function logWith(terms: number[], commit_index = 0): ReplicatedLog<string> {
  return new ReplicatedLog<string>({ snapshot_meta: { last_index: 0, last_term: 0 }, entries: entries(1, terms), commit_index });
}

describe('ReplicatedLog', () => {
  test('an empty log starts at index 1 with term 0 before it', () => {
    const log = emptyLog();
    expect([log.firstIndex(), log.lastIndex(), log.lastTerm(), log.term(0), log.term(1)]).toEqual([1, 0, 0, 0, null]);
  });

  test('a restored log follows its snapshot; compacted terms are unknown', () => {
    const log = new ReplicatedLog<string>({ snapshot_meta: { last_index: 10, last_term: 3 }, entries: entries(11, [3, 4]), commit_index: 4 });
    expect([log.firstIndex(), log.lastIndex(), log.lastTerm()]).toEqual([11, 12, 4]);
    expect([log.term(9), log.term(10), log.term(11), log.term(13)]).toEqual([null, 3, 3, null]);
    // Commit is at least the snapshot; applied starts at the snapshot.
    expect([log.commit_index, log.applied_index]).toEqual([10, 10]);
    expect(log.hasUnstable()).toBe(false);
  });

  test('restoring refuses gaps, decreasing terms and a commit beyond the log', () => {
    const meta = { last_index: 0, last_term: 0 };
    expect(() => new ReplicatedLog({ snapshot_meta: meta, entries: entries(2, [1]), commit_index: 0 })).toThrow(/entry 2 where 1 belongs/);
    expect(() => new ReplicatedLog({ snapshot_meta: meta, entries: entries(1, [2, 1]), commit_index: 0 })).toThrow(/term goes down/);
    expect(() => new ReplicatedLog({ snapshot_meta: meta, entries: entries(1, [1]), commit_index: 2 })).toThrow(/beyond the last index/);
  });

  test('merge keeps matching entries, so a delayed duplicate does not cut the log', () => {
    const log = logWith([1, 1, 1, 1]);
    log.takeUnstable();
    log.merge(entries(2, [1, 1]));
    expect(log.lastIndex()).toBe(4);
    expect(log.hasUnstable()).toBe(false);
  });

  test('merge replaces from the first conflict and hands the new suffix out again', () => {
    const log = logWith([1, 1, 1, 1]);
    log.takeUnstable();
    log.merge(entries(3, [2, 2, 2]));
    expect([log.lastIndex(), log.term(2), log.term(3), log.term(5)]).toEqual([5, 1, 2, 2]);
    expect(log.takeUnstable().map((entry) => entry.index)).toEqual([3, 4, 5]);
  });

  test('merge never replaces a committed entry', () => {
    const log = logWith([1, 1, 1], 2);
    expect(() => log.merge(entries(2, [2]))).toThrow(/conflict at committed index 2/);
  });

  test('merge refuses entries that would leave a gap', () => {
    const log = logWith([1]);
    expect(() => log.merge(entries(3, [1]))).toThrow(/outside the log/);
  });

  test.each<[number[], number, number, [number, number]]>([
    // log terms, index, term → conflict position
    [[1, 1, 2, 2, 3], 5, 2, [4, 2]],
    [[1, 1, 2, 2, 3], 5, 1, [2, 1]],
    [[1, 1, 2, 2, 3], 9, 3, [5, 3]],
    [[1, 1, 2, 2, 3], 5, 0, [0, 0]],
    [[4, 4, 4], 3, 2, [0, 0]],
  ])('findConflictByTerm in %p at (%i, %i) is %p', (terms, index, term, [expected_index, expected_term]) => {
    expect(logWith(terms).findConflictByTerm(index, term)).toEqual({ index: expected_index, term: expected_term });
  });

  test('findConflictByTerm stops at the snapshot', () => {
    const log = new ReplicatedLog<string>({ snapshot_meta: { last_index: 5, last_term: 2 }, entries: entries(6, [3, 3]), commit_index: 5 });
    expect(log.findConflictByTerm(7, 1)).toEqual({ index: 5, term: 2 });
    expect(log.findConflictByTerm(3, 1)).toEqual({ index: 3, term: 0 });
  });

  test('isUpToDate compares last term, then last index', () => {
    const log = logWith([1, 2, 2]);
    expect(log.isUpToDate({ index: 1, term: 3 })).toBe(true);
    expect(log.isUpToDate({ index: 3, term: 2 })).toBe(true);
    expect(log.isUpToDate({ index: 2, term: 2 })).toBe(false);
    expect(log.isUpToDate({ index: 9, term: 1 })).toBe(false);
  });

  test('committed entries are handed out once, in order', () => {
    const log = logWith([1, 1, 1]);
    expect(log.commitTo(2)).toBe(true);
    expect(log.commitTo(1)).toBe(false);
    expect(log.takeCommitted().map((entry) => entry.index)).toEqual([1, 2]);
    expect(log.takeCommitted()).toEqual([]);
    log.commitTo(3);
    expect(log.takeCommitted().map((entry) => entry.index)).toEqual([3]);
    expect(() => log.commitTo(4)).toThrow(/beyond the last index/);
  });

  test('compaction drops applied entries and keeps the term at its end', () => {
    const log = logWith([1, 2, 2, 3]);
    log.commitTo(3);
    log.takeCommitted();
    expect(() => log.compact(4)).toThrow(/beyond the applied index/);
    log.compact(2);
    expect([log.firstIndex(), log.term(2), log.term(1), log.lastIndex()]).toEqual([3, 2, null, 4]);
    expect(log.slice(3, 10).map((entry) => entry.index)).toEqual([3, 4]);
    expect(() => log.slice(2, 1)).toThrow(/before the first index/);
    log.compact(1); // already compacted: nothing to do
    expect(log.firstIndex()).toBe(3);
  });

  test('restore replaces the log by a snapshot past the commit', () => {
    const log = logWith([1, 1, 1], 1);
    log.restore({ last_index: 10, last_term: 4 });
    expect([log.firstIndex(), log.lastIndex(), log.lastTerm(), log.commit_index, log.applied_index]).toEqual([11, 10, 4, 10, 10]);
    expect(log.takeUnstable()).toEqual([]);
    expect(log.takeCommitted()).toEqual([]);
    expect(() => log.restore({ last_index: 9, last_term: 4 })).toThrow(/not after commit/);
  });

  test('property: what takeUnstable hands out, written with suffix overwrite, equals the log', () => {
    // A sequence of appends from masters of rising terms, each after a random matching prefix.
    const step = fc.record({ keep: fc.nat(20), count: fc.integer({ min: 0, max: 5 }), take: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const log = emptyLog();
        const disk: Entry<string>[] = [];
        const persist = () => {
          const unstable = log.takeUnstable();
          if (unstable.length === 0) return;
          disk.length = (unstable[0] as Entry<string>).index - 1;
          disk.push(...unstable);
        };
        steps.forEach(({ keep, count, take }, position) => {
          const term = position + 1;
          const prev_index = Math.max(log.commit_index, Math.min(keep, log.lastIndex()));
          log.merge(entries(prev_index + 1, Array<number>(count).fill(term)));
          if (take) persist();
        });
        persist();
        expect(disk.map((entry) => [entry.index, entry.term])).toEqual(log.slice(1, 1000).map((entry) => [entry.index, entry.term]));
      }),
    );
  });
});

describe('ReplicatedLog.sliceWithin', () => {
  const sized = new ReplicatedLog<string>({
    snapshot_meta: { last_index: 0, last_term: 0 },
    entries: ['aaaa', 'bb', 'cccccccc', 'd', 'e'].map((data, position) => ({ index: position + 1, term: 1, data })),
    commit_index: 0,
  });
  const bytesOf = (entry: Entry<string>) => entry.data?.length ?? 0;

  it.each([
    // from, count, bytes → the data taken, and their bytes
    [1, 10, 6, ['aaaa', 'bb'], 6],
    [1, 10, 5, ['aaaa'], 4],
    [1, 1, 100, ['aaaa'], 4],
    [3, 10, 2, ['cccccccc'], 8], // one entry over the budget still goes, alone
    [3, 10, 10, ['cccccccc', 'd', 'e'], 10],
    [6, 10, 10, [], 0],
  ])('from %i, at most %i entries and %i bytes', (from, count, bytes, taken, total) => {
    const slice = sized.sliceWithin(from, count, bytes, bytesOf);
    expect(slice.entries.map((entry) => entry.data)).toEqual(taken);
    expect(slice.bytes).toBe(total);
  });
});
