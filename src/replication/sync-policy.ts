/**
 * When a hard state must reach the disk before the node goes on (etcd's
 * MustSync). Term and vote must: a node that forgot them could vote twice in a
 * term. The commit index need not: it is a hint that lets a restarted node apply
 * its log without waiting for the master, and a lower one only means waiting. So
 * a ready pass that only advances the commit index costs no write and no fsync;
 * the newer commit index rides along with the next record that must be synced.
 */
import type { HardState } from './messages';

export function mustSync(stored: HardState, next: HardState | null, entryCount: number): boolean {
  if (entryCount > 0) return true;
  if (next === null) return false;
  return next.term !== stored.term || next.vote !== stored.vote;
}

/**
 * Which messages of a ready pass may leave before its sync: a master's appends,
 * when the pass changes neither term nor vote (Raft thesis §10.2.1: a master
 * writes to its disk in parallel with replicating to its slaves).
 *
 * Safe because slaves persist what they receive before they answer, and the
 * master's own unsynced copy counts toward a majority only in its memory:
 * committing is observable (a commit index sent, an entry applied, a client
 * answered) only from the next pass on, which starts after this sync. If the
 * master crashes first, the entries are on no majority it knew of, and nobody
 * was told they were committed. Everything else claims durable state (append
 * and vote answers, vote requests, a new term) and waits for the sync.
 */
export function splitAtSync<M extends { type: string }>(
  messages: M[],
  stored: HardState,
  next: HardState | null,
): { before: M[]; after: M[] } {
  const termOrVoteChanges = next !== null && (next.term !== stored.term || next.vote !== stored.vote);
  if (termOrVoteChanges) return { before: [], after: messages };
  const before: M[] = [];
  const after: M[] = [];
  for (const message of messages) (message.type === 'append_entries' ? before : after).push(message);
  return { before, after };
}
