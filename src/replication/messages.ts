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

/** A node's durable state, as storage recovers it: the entries follow the snapshot (or start at index 1). */
export interface DurableState<T> {
  hard_state: HardState;
  snapshot: Snapshot | null;
  entries: Entry<T>[];
}

// ---- peer messages ------------------------------------------------------

/** The fields every peer message has: who sends, who receives, and the sender's term. */
export interface MessageHeader {
  from: number;
  to: number;
  term: number;
}

/**
 * Master → slave: entries after (prev_index, prev_term), or none (a heartbeat).
 * `live_ids` are the slaves that answered the master within the fail-over
 * timeout; a slave ranks itself among them when the master goes silent.
 * `read_context` is the master's latest read-index round; the answer echoes it.
 */
export interface AppendEntries<T = unknown> extends MessageHeader {
  type: 'append_entries';
  prev_index: number;
  prev_term: number;
  entries: Entry<T>[];
  commit: number;
  live_ids: number[];
  read_context: number;
}

/**
 * Slave → master, the answer to AppendEntries and InstallSnapshot.
 * On success `index` is the highest index known to match the master's log.
 * On refusal `index` is the refused prev_index and (hint_index, hint_term) is
 * the slave's last entry that might match, so the master skips a whole term
 * at a time instead of one entry per round trip.
 */
export interface AppendResponse extends MessageHeader {
  type: 'append_response';
  success: boolean;
  index: number;
  hint_index: number;
  hint_term: number;
  read_context: number;
}

/**
 * Candidate → voter. A pre-vote carries term + 1 without the sender having
 * moved to it, so a node cut off from the cluster cannot inflate terms.
 */
export interface RequestVote extends MessageHeader {
  type: 'request_vote';
  pre_vote: boolean;
  last_index: number;
  last_term: number;
}

/** Voter → candidate. A granted pre-vote carries the term asked for. */
export interface VoteResponse extends MessageHeader {
  type: 'vote_response';
  pre_vote: boolean;
  granted: boolean;
}

/** Master → slave that needs entries the master has compacted away. Answered by AppendResponse. */
export interface InstallSnapshot extends MessageHeader {
  type: 'install_snapshot';
  snapshot: Snapshot;
  /**
   * sha256 of `snapshot.data` in hex, computed by the node that sends it when
   * it attaches the image (the replica leaves it out: it may not hold the
   * image); the receiver checks it before anything is replaced.
   */
  checksum?: string;
  live_ids: number[];
  read_context: number;
  /**
   * Set by the master's node, never by the replica: the master's image sent to
   * a slave whose data differs from its own (src/node/content-check.ts). The
   * slave's node restores it without stepping its replica.
   */
  repair?: true;
}

export type Message<T = unknown> = AppendEntries<T> | AppendResponse | RequestVote | VoteResponse | InstallSnapshot;

// ---- what the replica hands to the node --------------------------------

/** A confirmed read-index request: serve the read once applied_index >= index. */
export interface ReadState {
  request_id: string;
  index: number;
}

/**
 * Work for the node, in this order: restore and persist `snapshot`, persist
 * `entries` (overwriting any persisted suffix from entries[0].index on) and
 * `hard_state` (one fsync), then send `messages`, then apply `committed`,
 * then answer `read_states`, then call advance().
 */
export interface Ready<T = unknown> {
  hard_state: HardState | null;
  entries: Entry<T>[];
  snapshot: Snapshot | null;
  messages: Message<T>[];
  committed: Entry<T>[];
  read_states: ReadState[];
}

export type Role = 'slave' | 'candidate' | 'master';

export type ProposeResult = { ok: true; index: number; term: number } | { ok: false; reason: 'not_master' | 'busy' };

export type ReadIndexRequestResult = { ok: true } | { ok: false; reason: 'not_master' | 'busy' };

/** One other node as this replica sees it. Only a master knows match_index; elsewhere it is 0. */
export interface PeerView {
  id: number;
  match_index: number;
  /** Answered the master within the fail-over timeout (on a slave: listed live by the master). */
  alive: boolean;
  /** Ticks since this node last heard from that peer; null when it does not track it. */
  last_contact_ticks_ago: number | null;
}

export interface ReplicaStatus {
  id: number;
  role: Role;
  /** True while a candidate only runs its pre-vote (its term has not moved yet). */
  pre_candidate: boolean;
  term: number;
  master_id: number | null;
  commit_index: number;
  /** The commit index of the master as last heard (a master's own): what a ready node has applied. */
  master_commit_index: number;
  /** Master: the entry that opened its term is committed, so it knows the latest commit index (ReadIndex). */
  term_start_committed: boolean;
  /** Why the role last changed, in words. */
  role_reason: string;
  /** Highest index handed to the node to apply (or restored from a snapshot). */
  applied_index: number;
  first_index: number;
  last_index: number;
  snapshot_index: number;
  /** Messages the outbox refused because the node did not drain it; safe, since any message may be lost. */
  messages_dropped: number;
  peers: PeerView[];
}
