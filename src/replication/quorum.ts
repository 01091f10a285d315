/**
 * Majority arithmetic, kept pure and table-tested (like etcd's
 * quorum/majority.go). Membership is static, so a quorum is always a strict
 * majority of the configured nodes.
 */

// Bound once: global lookups are slow inside jest's vm context, where the simulator runs this hot.
const isInteger = Number.isInteger;
const floor = Math.floor;

/** How many of `voter_count` nodes make a strict majority. */
export function majoritySize(voter_count: number): number {
  if (!isInteger(voter_count) || voter_count < 1) {
    throw new Error(`majoritySize: voter_count must be a positive integer, got ${voter_count}`);
  }
  return floor(voter_count / 2) + 1;
}

/**
 * The highest index that a majority has reached, given one acknowledged index
 * per node (the master's own last index included). Sorting descending, the
 * majority-th value is stored by at least a majority.
 */
export function committedIndex(acknowledged_indexes: readonly number[]): number {
  if (acknowledged_indexes.length === 0) throw new Error('committedIndex: no acknowledgements');
  const sorted = [...acknowledged_indexes].sort((left, right) => right - left);
  return sorted[majoritySize(sorted.length) - 1] as number;
}

export type VoteOutcome = 'won' | 'lost' | 'pending';

/** An election is won by a majority of grants and lost once a majority can no longer be reached. */
export function voteOutcome(input: { voter_count: number; granted_count: number; refused_count: number }): VoteOutcome {
  const { voter_count, granted_count, refused_count } = input;
  if (granted_count + refused_count > voter_count) {
    throw new Error(`voteOutcome: ${granted_count} + ${refused_count} answers from ${voter_count} voters`);
  }
  const majority = majoritySize(voter_count);
  if (granted_count >= majority) return 'won';
  if (voter_count - refused_count < majority) return 'lost';
  return 'pending';
}
