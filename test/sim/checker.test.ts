/** The checker must fire on each property it guards; the simulator is only as good as its referee. */
import type { Entry } from '../../src/replication/messages';
import { type DiskView, InvariantViolation, SimChecker } from './checker';
import { EMPTY_MACHINE, applyEntry } from './machine';

function disk(terms: number[], snapshot_index = 0): DiskView {
  return {
    snapshotIndex: () => snapshot_index,
    termAt: (index) => (index === 0 ? 0 : index <= terms.length ? (terms[index - 1] as number) : null),
  };
}

function entry(index: number, term: number, data: string | null): Entry<string> {
  return { index, term, data };
}

describe('SimChecker', () => {
  test('fires on two masters in one term', () => {
    const checker = new SimChecker(3);
    checker.observeRole(1, 'master', 2, disk([]));
    checker.observeRole(1, 'master', 2, disk([])); // the same master again is fine
    expect(() => checker.observeRole(2, 'master', 2, disk([]))).toThrow(/election safety: nodes 1 and 2 are both master of term 2/);
  });

  test('fires when a node goes back in term (lost its durable term)', () => {
    const checker = new SimChecker(3);
    checker.observeRole(1, 'slave', 3, disk([]));
    expect(() => checker.observeRole(1, 'slave', 2, disk([]))).toThrow(InvariantViolation);
  });

  test('fires on two logs with the same index and term but different data or history', () => {
    const checker = new SimChecker(3);
    checker.persisted(1, [entry(1, 1, 'a'), entry(2, 2, 'b')], disk([1, 2]));
    expect(() => checker.persisted(2, [entry(2, 2, 'other')], disk([1, 2]))).toThrow(/log matching/);
    expect(() => checker.persisted(3, [entry(2, 2, 'b')], disk([2, 2]))).toThrow(/log matching/);
  });

  test('fires on divergent applied sequences, and on an entry applied without a durable majority', () => {
    const checker = new SimChecker(3);
    const disks = [disk([1]), disk([1]), disk([])];
    const first = applyEntry(EMPTY_MACHINE, entry(1, 1, 'a'));
    checker.applied(1, 1, entry(1, 1, 'a'), first, { disks, masters: [] });
    checker.applied(2, 1, entry(1, 1, 'a'), first, { disks, masters: [] });
    const other = applyEntry(EMPTY_MACHINE, entry(1, 1, 'z'));
    expect(() => checker.applied(3, 1, entry(1, 1, 'z'), other, { disks, masters: [] })).toThrow(/state machine safety/);
    const second = applyEntry(first, entry(2, 1, 'b'));
    expect(() => checker.applied(1, 1, entry(2, 1, 'b'), second, { disks, masters: [] })).toThrow(/durability/);
  });

  test('fires when a master of a later term lacks a committed entry', () => {
    const checker = new SimChecker(3);
    const disks = [disk([1]), disk([1]), disk([])];
    checker.applied(1, 1, entry(1, 1, 'a'), applyEntry(EMPTY_MACHINE, entry(1, 1, 'a')), { disks, masters: [] });
    expect(() => checker.observeRole(3, 'master', 2, disk([]))).toThrow(/leader completeness/);
    // A master of the commit's own term (or older) may lack it: it could be a deposed one.
    expect(() => checker.observeRole(2, 'master', 1, disk([]))).not.toThrow();
  });

  test('fires when a read is confirmed below what was applied before it was asked', () => {
    const checker = new SimChecker(1);
    checker.applied(1, 1, entry(1, 1, null), applyEntry(EMPTY_MACHINE, entry(1, 1, null)), { disks: [disk([1])], masters: [] });
    checker.readAsked('r1');
    expect(() => checker.readConfirmed(1, 'r1', 0)).toThrow(/linearizability/);
    checker.readAsked('r2');
    checker.readConfirmed(1, 'r2', 1);
    expect(() => checker.readConfirmed(1, 'unknown', 1)).toThrow(/unknown request/);
  });

  test('fires on a snapshot whose state differs from the applied sequence', () => {
    const checker = new SimChecker(1);
    const state = applyEntry(EMPTY_MACHINE, entry(1, 1, 'a'));
    checker.applied(1, 1, entry(1, 1, 'a'), state, { disks: [disk([1])], masters: [] });
    checker.restored(1, state);
    expect(() => checker.restored(1, { ...state, state_hash: state.state_hash + 1 })).toThrow(/snapshot at 1/);
  });
});
