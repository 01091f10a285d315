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
