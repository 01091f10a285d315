/**
 * Entry, state and message types of the replication protocol. Everything here
 * is plain JSON (snapshot data aside) so it can be stored and sent unchanged.
 * Every message carries the sender's term: the replica compares terms first,
 * in one place, before any role logic.
 */

/** One slot of the replicated log. `data: null` is the no-op a new master commits first. */
export interface Entry<T = unknown> {
  index: number;
  term: number;
  data: T | null;
}

/** What must be durable before a node answers a message: Raft's persistent state. */
export interface HardState {
  term: number;
  /** The id this node voted for in `term`, or null. */
  vote: number | null;
  /** Highest index known committed; durable only as a hint (recomputed by the master). */
  commit: number;
}

/** The position a snapshot covers: every entry up to last_index is inside it. */
export interface SnapshotMeta {
  last_index: number;
  last_term: number;
}

/** An engine image at `meta.last_index`; `data` is opaque to the replication layer. */
export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}
