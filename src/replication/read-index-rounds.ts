/**
 * The master's side of ReadIndex (Raft thesis §6.4; etcd's read_only.go),
 * kept apart from the replica so the release rule has its own table tests.
 *
 * A strong read may be answered from the commit index it was given only once a
 * majority has shown, after the read was asked, that it still follows this
 * master. So each read opens a round; every message the master sends from then
 * on carries the latest round, a slave's answer echoes it, and a read is
 * released when a majority (this master included) has answered its round or a
 * later one. Answers may come back in any order: a slave's highest round
 * answered is what counts, and one answer confirms every round up to it.
 * Pure: the replica tells it the rounds answered and hands on what it releases.
 */
import type { ReadState } from './messages';
import { committedIndex } from './quorum';

interface PendingRead {
  request_id: string;
  /** The commit index when the read was asked: the node answers once it has applied that far. */
  index: number;
  round: number;
}

export class ReadIndexRounds {
  /**
   * The latest round opened. Never reset, not even on a change of term: a
   * slave's acknowledgement starts at 0 in each term, and an older answer,
   * carrying an older term, never reaches the rounds.
   */
  private latest_round = 0;
  /** Oldest first, so rounds only grow along the queue. */
  private pending: PendingRead[] = [];

  /** What every message the master sends carries as its read context. */
  get round(): number {
    return this.latest_round;
  }

  get pending_count(): number {
    return this.pending.length;
  }

  /** Opens a round for a read asked at `commit_index`. */
  open(request_id: string, commit_index: number): void {
    this.latest_round += 1;
    this.pending.push({ request_id, index: commit_index, round: this.latest_round });
  }

  /**
   * Releases, in order, the reads whose round a majority has answered, given
   * the highest round each other node has answered (this master has answered
   * every round it opened).
   */
  release(slave_rounds: readonly number[]): ReadState[] {
    if (this.pending.length === 0) return [];
    const confirmed_round = committedIndex([this.latest_round, ...slave_rounds]);
    let released = 0;
    while (released < this.pending.length && (this.pending[released] as PendingRead).round <= confirmed_round) released += 1;
    return this.pending.splice(0, released).map((read) => ({ request_id: read.request_id, index: read.index }));
  }

  /**
   * A change of role: the waiting reads can no longer be confirmed in this
   * master's term, so they are dropped (the node's read waits out its deadline).
   */
  clear(): void {
    this.pending = [];
  }
}
