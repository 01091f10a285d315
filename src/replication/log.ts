/**
 * The replicated log of one replica: a snapshot offset followed by entries,
 * plus the commit and apply positions and how much of it the node has not
 * been handed to persist yet. Pure data structure; no protocol decisions
 * beyond the log's own invariants, which are asserted.
 *
 *   snapshot.last_index < first_index <= ... <= applied_index <= commit_index <= last_index
 */
import type { Entry, SnapshotMeta } from './messages';

/** A position in the log: an index and the term of the entry there. */
export interface LogPosition {
  index: number;
  term: number;
}

export interface LogRestore<T> {
  snapshot_meta: SnapshotMeta;
  /** Entries that follow the snapshot, in order, already durable. */
  entries: Entry<T>[];
  commit_index: number;
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`log: ${message}`);
}

export class ReplicatedLog<T> {
  private snapshot_meta: SnapshotMeta;
  private entries: Entry<T>[];
  private commit: number;
  private applied: number;
  /** First index not yet handed to the node to persist. */
  private unstable_from: number;

  constructor(restore: LogRestore<T>) {
    this.snapshot_meta = { ...restore.snapshot_meta };
    this.entries = [...restore.entries];
    this.assertContiguous(this.entries, this.snapshot_meta.last_index + 1);
    this.commit = Math.max(restore.commit_index, this.snapshot_meta.last_index);
    assert(this.commit <= this.lastIndex(), `restored commit ${this.commit} beyond the last index ${this.lastIndex()}`);
    this.applied = this.snapshot_meta.last_index;
    this.unstable_from = this.lastIndex() + 1;
  }

  get commit_index(): number {
    return this.commit;
  }

  get applied_index(): number {
    return this.applied;
  }

  snapshotMeta(): SnapshotMeta {
    return { ...this.snapshot_meta };
  }

  firstIndex(): number {
    return this.snapshot_meta.last_index + 1;
  }

  lastIndex(): number {
    return this.snapshot_meta.last_index + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) as number;
  }

  lastPosition(): LogPosition {
    return { index: this.lastIndex(), term: this.lastTerm() };
  }

  /** The term of the entry at `index`, or null when it is compacted away or not there yet. */
  term(index: number): number | null {
    if (index === this.snapshot_meta.last_index) return this.snapshot_meta.last_term;
    if (index < this.snapshot_meta.last_index || index > this.lastIndex()) return null;
    return (this.entries[index - this.firstIndex()] as Entry<T>).term;
  }

  /** Up to `count_max` entries from `from_index` on (fewer at the end of the log). */
  slice(from_index: number, count_max: number): Entry<T>[] {
    assert(from_index >= this.firstIndex(), `slice from ${from_index} before the first index ${this.firstIndex()}`);
    const start = from_index - this.firstIndex();
    return this.entries.slice(start, start + count_max);
  }

  /**
   * Entries from `from_index`, at most `count_max` of them and `bytes_max`
   * bytes as `bytesOf` counts them, but at least one when there is one (an
   * entry larger than the budget still has to travel, alone).
   */
  sliceWithin(from_index: number, count_max: number, bytes_max: number, bytesOf: (entry: Entry<T>) => number): { entries: Entry<T>[]; bytes: number } {
    assert(from_index >= this.firstIndex(), `slice from ${from_index} before the first index ${this.firstIndex()}`);
    const start = from_index - this.firstIndex();
    const end = Math.min(this.entries.length, start + count_max);
    let bytes = 0;
    let index = start;
    for (; index < end; index += 1) {
      const size = bytesOf(this.entries[index] as Entry<T>);
      if (index > start && bytes + size > bytes_max) break;
      bytes += size;
    }
    return { entries: this.entries.slice(start, index), bytes };
  }

  /** Raft's voting rule: the other log is at least as up to date (last term first, then last index). */
  isUpToDate(other_last: LogPosition): boolean {
    const last_term = this.lastTerm();
    return other_last.term > last_term || (other_last.term === last_term && other_last.index >= this.lastIndex());
  }

  /** The master appends a new entry of its term. */
  appendNew(term: number, data: T | null): Entry<T> {
    assert(term >= this.lastTerm(), `append of term ${term} after term ${this.lastTerm()}`);
    const entry: Entry<T> = { index: this.lastIndex() + 1, term, data };
    this.entries.push(entry);
    return entry;
  }

  /**
   * A slave stores entries the master sent after a matching prev entry.
   * Entries it already has (same index and term) are kept, so a delayed or
   * duplicated append never cuts off entries that arrived after it; the
   * first conflicting entry and everything after it are replaced.
   */
  merge(entries: readonly Entry<T>[]): void {
    if (entries.length === 0) return;
    const first = (entries[0] as Entry<T>).index;
    assert(first > this.snapshot_meta.last_index && first <= this.lastIndex() + 1, `merge at ${first} outside the log`);
    this.assertContiguous(entries, first);
    for (let offset = 0; offset < entries.length; offset += 1) {
      const entry = entries[offset] as Entry<T>;
      const existing = this.term(entry.index);
      if (existing === entry.term) continue;
      if (existing !== null) {
        assert(entry.index > this.commit, `conflict at committed index ${entry.index} (commit ${this.commit})`);
        this.entries.length = entry.index - this.firstIndex();
        this.unstable_from = Math.min(this.unstable_from, entry.index);
      }
      for (let rest = offset; rest < entries.length; rest += 1) this.entries.push(entries[rest] as Entry<T>);
      return;
    }
  }

  /**
   * The last position at or before `index` whose term is at most `term`:
   * every entry after it may differ from a log that has `term` at `index`.
   * Used by a refusing slave for its hint and by the master to skip a term at
   * once (etcd's findConflictByTerm). Stops at the snapshot, whose term is known.
   */
  findConflictByTerm(index: number, term: number): LogPosition {
    if (index < this.snapshot_meta.last_index) return { index, term: 0 };
    let position = Math.min(index, this.lastIndex());
    while (position > this.snapshot_meta.last_index && (this.term(position) as number) > term) position -= 1;
    return { index: position, term: this.term(position) as number };
  }

  commitTo(index: number): boolean {
    assert(index <= this.lastIndex(), `commit ${index} beyond the last index ${this.lastIndex()}`);
    if (index <= this.commit) return false;
    this.commit = index;
    return true;
  }

  hasUnstable(): boolean {
    return this.unstable_from <= this.lastIndex();
  }

  /** Entries to persist; from now on they count as handed to the node. */
  takeUnstable(): Entry<T>[] {
    if (!this.hasUnstable()) return [];
    const unstable = this.entries.slice(this.unstable_from - this.firstIndex());
    this.unstable_from = this.lastIndex() + 1;
    return unstable;
  }

  hasCommitted(): boolean {
    return this.commit > this.applied;
  }

  /** Committed entries not yet handed to the node to apply; from now on they count as applied. */
  takeCommitted(): Entry<T>[] {
    if (!this.hasCommitted()) return [];
    const committed = this.entries.slice(this.applied + 1 - this.firstIndex(), this.commit + 1 - this.firstIndex());
    this.applied = this.commit;
    return committed;
  }

  /** Drops entries up to `index`, which the node has applied and captured in a snapshot. */
  compact(index: number): void {
    assert(index <= this.applied, `compaction at ${index} beyond the applied index ${this.applied}`);
    if (index <= this.snapshot_meta.last_index) return;
    const term = this.term(index) as number;
    this.entries = this.entries.slice(index - this.snapshot_meta.last_index);
    this.snapshot_meta = { last_index: index, last_term: term };
  }

  /** Replaces the whole log by a snapshot received from the master. */
  restore(meta: SnapshotMeta): void {
    assert(meta.last_index > this.commit, `restore at ${meta.last_index} not after commit ${this.commit}`);
    this.snapshot_meta = { ...meta };
    this.entries = [];
    this.commit = meta.last_index;
    this.applied = meta.last_index;
    this.unstable_from = meta.last_index + 1;
  }

  private assertContiguous(entries: readonly Entry<T>[], first_index: number): void {
    let previous_term = this.snapshot_meta.last_term;
    for (let offset = 0; offset < entries.length; offset += 1) {
      const entry = entries[offset] as Entry<T>;
      assert(entry.index === first_index + offset, `entry ${entry.index} where ${first_index + offset} belongs`);
      if (offset > 0) assert(entry.term >= previous_term, `term goes down at index ${entry.index}`);
      previous_term = entry.term;
    }
  }
}
