/**
 * The replication protocol as a pure state machine: Raft (Ongaro &
 * Ousterhout) with pre-vote, check-quorum, ReadIndex and a deterministic
 * candidate order. It does no I/O, keeps no clock and draws no random
 * numbers; the node drives it, etcd style:
 *
 *   tick() on a timer, step(message) per received message, propose(data),
 *   readIndex(id); then while hasReady(): ready() → persist → send → apply → advance().
 *
 * Candidate order: a slave that has heard nothing from its master for
 * `failover_timeout_ticks + rank × election_stagger_ticks` runs a pre-vote,
 * then an election. Its rank is the number of slaves with a lower id that the
 * master last listed as live, so the lowest-id live slave asks first; voters
 * refuse a candidate whose log is behind theirs, and then the next one in
 * rank order, with a complete log, wins a stagger later.
 */
import { TERM_MAX } from './bounds';
import { ReplicatedLog } from './log';
import type {
  AppendEntries,
  AppendResponse,
  DurableState,
  Entry,
  HardState,
  InstallSnapshot,
  Message,
  PeerView,
  ProposeResult,
  ReadIndexRequestResult,
  ReadState,
  Ready,
  ReplicaStatus,
  RequestVote,
  Role,
  Snapshot,
  VoteResponse,
} from './messages';
import { mix32 } from './mix32';
import {
  type Progress,
  TICKS_AGO_MAX,
  acknowledgeReadRound,
  answerReceived,
  answeredWithin,
  appendRefused,
  appendSent,
  appendSucceeded,
  appendsPaused,
  becomeProbe,
  becomeSnapshot,
  heartbeatSent,
  inflightFull,
  joinUnsentAppend,
  newProgress,
  outboxTaken,
  probeSent,
  refreshUnsentAppend,
  sentBeyondMatch,
  snapshotLost,
  tickProgress,
  unsentAppendRoom,
} from './progress-tracker';
import { committedIndex, majoritySize, voteOutcome } from './quorum';
import { ReadIndexRounds } from './read-index-rounds';

/** The node shell (src/node/) and the peer endpoints (src/http/peer-endpoints.ts) take the message types from here, with the replica. */
export type * from './messages';

export interface ReplicaConfig<T = unknown> {
  id: number;
  /** Every node id, this one included. Static. */
  peers: number[];
  heartbeat_ticks: number;
  failover_timeout_ticks: number;
  election_stagger_ticks: number;
  entries_per_append_max: number;
  inflight_appends_max: number;
  proposals_pending_max: number;
  read_requests_max: number;
  /**
   * The bytes one append may carry beyond its first entry, as `entry_bytes`
   * counts them: with entries of up to the body limit, 512 of them would make
   * one message too large to encode. Absent: only the count limits an append.
   */
  append_bytes_max?: number;
  entry_bytes?: (entry: Entry<T>) => number;
}

interface RoleHandlers<T> {
  step: (message: Message<T>) => void;
  tick: () => void;
}

/** Outbox room per node in the cluster beyond the append pipeline; a message past it is dropped (always safe). */
const OUTBOX_SLACK_PER_PEER_MESSAGES = 64;

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`replica: ${message}`);
}

function assertConfig<T>(config: ReplicaConfig<T>): void {
  const { id, peers } = config;
  assert(peers.every((peer) => Number.isInteger(peer) && peer > 0), `peer ids must be positive integers: ${peers}`);
  assert(new Set(peers).size === peers.length, `duplicate peer ids: ${peers}`);
  assert(peers.includes(id), `id ${id} is not among the peers ${peers}`);
  const positive: (keyof ReplicaConfig<T>)[] = [
    'heartbeat_ticks',
    'failover_timeout_ticks',
    'entries_per_append_max',
    'inflight_appends_max',
    'proposals_pending_max',
    'read_requests_max',
  ];
  for (const key of positive) {
    const value = config[key] as number;
    assert(Number.isInteger(value) && value >= 1, `${key} must be a positive integer, got ${value}`);
  }
  if (config.append_bytes_max !== undefined) assert(Number.isInteger(config.append_bytes_max) && config.append_bytes_max >= 1, 'append_bytes_max must be a positive integer');
  assert((config.append_bytes_max === undefined) === (config.entry_bytes === undefined), 'append_bytes_max and entry_bytes go together');
  assert(Number.isInteger(config.election_stagger_ticks) && config.election_stagger_ticks >= 0, 'election_stagger_ticks must be >= 0');
  assert(config.failover_timeout_ticks > config.heartbeat_ticks, 'failover_timeout_ticks must exceed heartbeat_ticks');
}

/** Entries the snapshot already covers (storage may not have truncated them yet) are skipped; a gap is corruption. */
function restoredLog<T>(restored: DurableState<T>): ReplicatedLog<T> {
  const snapshot_meta = restored.snapshot?.meta ?? { last_index: 0, last_term: 0 };
  const entries = restored.entries.filter((entry) => entry.index > snapshot_meta.last_index);
  return new ReplicatedLog<T>({ snapshot_meta, entries, commit_index: restored.hard_state.commit });
}

export class Replica<T> {
  private readonly config: ReplicaConfig<T>;
  private readonly id: number;
  /** The other nodes, by id. */
  private readonly others: number[];
  /**
   * A voter that heard from a live master within this many ticks refuses
   * votes (Raft thesis §4.2.3, here also for pre-votes). It is one heartbeat
   * shorter than the fail-over timeout on purpose: every slave last heard the
   * dead master at about the same moment (the same heartbeat broadcast, give
   * or take network jitter), so when the first-ranked slave times out the
   * others are already out of their lease and grant at once, instead of
   * refusing because their copy of that heartbeat arrived a tick later. A
   * live master heartbeats every heartbeat_ticks, so a voter only leaves the
   * lease after missing most of a timeout's worth of heartbeats: this is a
   * liveness and disruption rule, not a safety one.
   */
  private readonly lease_ticks: number;
  private readonly outbox_messages_max: number;

  private term: number;
  private vote: number | null;
  private role: Role = 'slave';
  private pre_candidate = false;
  private master_id: number | null = null;
  /** The last master heard from; excluded from the rank since it is the one presumed dead. */
  private last_master_id: number | null = null;
  /** The master's last word on which slaves are live; null until a master is heard. */
  private live_ids: number[] | null = null;
  /**
   * Slave: the highest commit index its master has announced in this term
   * (appends and snapshots), whether or not this log has caught up to it yet:
   * the node is ready once it has applied that far.
   */
  private master_commit_index = 0;
  /** Why the role last changed, in words for the node's log. */
  private role_reason = 'started as a slave';
  private handlers: RoleHandlers<T>;

  private readonly log: ReplicatedLog<T>;
  /** The latest snapshot: where the log starts, sent to slaves that need compacted entries. */
  private snapshot: Snapshot | null;
  private received_snapshot: Snapshot | null = null;
  private persisted_hard_state: HardState;
  private outbox: Message<T>[] = [];
  private read_states: ReadState[] = [];
  private messages_dropped = 0;
  private ready_in_progress = false;

  private election_elapsed_ticks = 0;
  private master_contact_ago_ticks = TICKS_AGO_MAX;
  private campaign_elapsed_ticks = 0;
  private campaign_backoff_ticks = 0;
  private campaign_count = 0;
  private heartbeat_elapsed_ticks = 0;
  /** Candidate: who answered this campaign, and whether they granted. */
  private votes = new Map<number, boolean>();
  /** Master only. */
  private progress = new Map<number, Progress<T>>();
  private readonly read_rounds = new ReadIndexRounds();

  constructor(config: ReplicaConfig<T>, restored: DurableState<T>) {
    assertConfig(config);
    this.config = { ...config, peers: [...config.peers].sort((left, right) => left - right) };
    this.id = config.id;
    this.others = this.config.peers.filter((peer) => peer !== this.id);
    this.lease_ticks = config.failover_timeout_ticks - config.heartbeat_ticks;
    this.outbox_messages_max = this.config.peers.length * (config.inflight_appends_max + OUTBOX_SLACK_PER_PEER_MESSAGES);
    this.log = restoredLog(restored);
    this.snapshot = restored.snapshot;
    this.term = restored.hard_state.term;
    this.vote = restored.hard_state.vote;
    assert(this.log.lastTerm() <= this.term, `restored log term ${this.log.lastTerm()} above the term ${this.term}`);
    this.persisted_hard_state = this.hardState();
    this.handlers = this.slaveHandlers();
    // A cluster of one needs nobody's vote: it promotes itself at once.
    if (this.others.length === 0) this.startPreVote('a cluster of one node');
  }

  // ---- driving inputs ----------------------------------------------------

  tick(): void {
    this.master_contact_ago_ticks = Math.min(this.master_contact_ago_ticks + 1, TICKS_AGO_MAX);
    this.handlers.tick();
  }

  /** Terms are compared here, once, before any role logic. */
  step(message: Message<T>): void {
    this.assertAddressed(message);
    // Beyond the bound nothing can be persisted and recovered: such a message is dropped (the channel refuses it first).
    if (!(message.term <= TERM_MAX)) return;
    if (message.term > this.term) {
      if (!this.enterHigherTerm(message)) return;
    } else if (message.term < this.term) {
      this.answerStaleTerm(message);
      return;
    }
    this.handlers.step(message);
  }

  propose(data: T): ProposeResult {
    assert(data !== null, 'propose(null): null is the no-op a new master commits');
    if (this.role !== 'master') return { ok: false, reason: 'not_master' };
    if (this.log.lastIndex() - this.log.commit_index >= this.config.proposals_pending_max) return { ok: false, reason: 'busy' };
    const entry = this.log.appendNew(this.term, data);
    for (const progress of this.progress.values()) this.sendAppends(progress);
    this.maybeCommit();
    return { ok: true, index: entry.index, term: entry.term };
  }

  /**
   * ReadIndex (Raft thesis §6.4): remember the commit index, then confirm with
   * a round of messages that a majority still follows this master in this
   * term. The ReadState appears in a later Ready.
   */
  readIndex(request_id: string): ReadIndexRequestResult {
    // Until an entry of its own term commits, a new master does not know the latest commit index.
    if (this.role !== 'master' || this.log.term(this.log.commit_index) !== this.term) return { ok: false, reason: 'not_master' };
    if (this.read_rounds.pending_count + this.read_states.length >= this.config.read_requests_max) return { ok: false, reason: 'busy' };
    if (this.others.length === 0) {
      this.read_states.push({ request_id, index: this.log.commit_index });
      return { ok: true };
    }
    // Every message sent from now on carries this round; one still in the outbox may carry it too.
    this.read_rounds.open(request_id, this.log.commit_index);
    for (const progress of this.progress.values()) this.touch(progress);
    return { ok: true };
  }

  /** Entries `from`…`to` this replica has handed over to apply and still holds; null when compaction dropped some. */
  appliedEntries(from: number, to: number): Entry<T>[] | null {
    if (from < this.log.firstIndex() || to > this.log.applied_index) return null;
    return to < from ? [] : this.log.slice(from, to - from + 1);
  }

  /** The snapshot a master sent that the next ready() hands over to install, if any. */
  receivedSnapshot(): Snapshot | null {
    return this.received_snapshot;
  }

  /** The node stored the snapshot this replica holds: it keeps `data` (a token for "in storage") in place of the image. */
  snapshotStored(last_index: number, data: Uint8Array): void {
    if (this.snapshot !== null && this.snapshot.meta.last_index === last_index) this.snapshot = { meta: this.snapshot.meta, data };
  }

  /** The node took an engine snapshot at applied `index`: drop the log up to it. */
  compact(index: number, data: Uint8Array): void {
    assert(index <= this.log.applied_index, `compact(${index}) beyond the applied index ${this.log.applied_index}`);
    if (index < this.log.firstIndex()) return;
    this.log.compact(index);
    this.snapshot = { meta: this.log.snapshotMeta(), data };
  }

  // ---- the ready loop ----------------------------------------------------

  hasReady(): boolean {
    if (this.ready_in_progress) return false;
    return (
      this.hardStateChanged() ||
      this.log.hasUnstable() ||
      this.received_snapshot !== null ||
      this.outbox.length > 0 ||
      this.log.hasCommitted() ||
      this.read_states.length > 0
    );
  }

  /** Hands over the pending work; what it contains counts as done (etcd's acceptReady). */
  ready(): Ready<T> {
    assert(!this.ready_in_progress, 'ready() called again before advance()');
    const hard_state = this.hardStateChanged() ? this.hardState() : null;
    const ready: Ready<T> = {
      hard_state,
      entries: this.log.takeUnstable(),
      snapshot: this.received_snapshot,
      messages: this.outbox,
      committed: this.log.takeCommitted(),
      read_states: this.read_states,
    };
    if (hard_state !== null) this.persisted_hard_state = hard_state;
    this.received_snapshot = null;
    this.outbox = [];
    this.read_states = [];
    for (const progress of this.progress.values()) outboxTaken(progress);
    this.ready_in_progress = true;
    return ready;
  }

  advance(): void {
    assert(this.ready_in_progress, 'advance() without ready()');
    this.ready_in_progress = false;
  }

  /** The master as this replica knows it (itself when master); null when it knows none. */
  masterId(): number | null {
    return this.role === 'master' ? this.id : this.master_id;
  }

  status(): ReplicaStatus {
    return {
      id: this.id,
      role: this.role,
      pre_candidate: this.pre_candidate,
      term: this.term,
      master_id: this.masterId(),
      commit_index: this.log.commit_index,
      master_commit_index: this.role === 'master' ? this.log.commit_index : this.master_commit_index,
      term_start_committed: this.role === 'master' && this.log.term(this.log.commit_index) === this.term,
      role_reason: this.role_reason,
      applied_index: this.log.applied_index,
      first_index: this.log.firstIndex(),
      last_index: this.log.lastIndex(),
      snapshot_index: this.log.firstIndex() - 1,
      messages_dropped: this.messages_dropped,
      peers: this.others.map((id) => this.peerStatus(id)),
    };
  }

  private peerStatus(id: number): PeerView {
    const progress = this.progress.get(id);
    if (progress !== undefined) {
      const alive = answeredWithin(progress, this.config.failover_timeout_ticks);
      return { id, match_index: progress.match_index, alive, last_contact_ticks_ago: progress.answered_ago_ticks };
    }
    if (id === this.master_id) {
      const alive = this.master_contact_ago_ticks < this.config.failover_timeout_ticks;
      return { id, match_index: 0, alive, last_contact_ticks_ago: this.master_contact_ago_ticks };
    }
    return { id, match_index: 0, alive: this.live_ids?.includes(id) ?? false, last_contact_ticks_ago: null };
  }

  // ---- terms ---------------------------------------------------------------

  /** Returns whether the message goes on to the role logic. */
  private enterHigherTerm(message: Message<T>): boolean {
    if (message.type === 'request_vote') {
      // A node that hears from a live master neither moves to the candidate's term nor votes.
      if (this.inLease()) {
        if (message.pre_vote) this.answerVote(message, false);
        return false;
      }
      // A pre-vote carries a term its sender has not moved to: no step down for it.
      if (!message.pre_vote) this.becomeSlave(message.term, null, `node ${message.from} asked for votes in term ${message.term}`);
      return true;
    }
    // A granted pre-vote carries the term we asked for, not one anybody is in.
    if (message.type === 'vote_response' && message.pre_vote && message.granted) return true;
    const from_master = message.type === 'append_entries' || message.type === 'install_snapshot';
    const reason = from_master ? `node ${message.from} is master of term ${message.term}` : `heard term ${message.term} from node ${message.from}`;
    this.becomeSlave(message.term, from_master ? message.from : null, reason);
    return true;
  }

  /**
   * A master or candidate of an older term is told ours, so it steps down; a
   * node that moved to a higher term while cut off could otherwise never
   * rejoin, since check-quorum voters ignore its vote requests.
   */
  private answerStaleTerm(message: Message<T>): void {
    if (message.type === 'append_entries' || message.type === 'install_snapshot') {
      const index = message.type === 'append_entries' ? message.prev_index : message.snapshot.meta.last_index;
      this.answerAppend(message, { success: false, index, hint_index: 0, hint_term: 0 });
    } else if (message.type === 'request_vote') {
      this.answerVote(message, false);
    }
  }

  private inLease(): boolean {
    if (this.role === 'master') return true;
    return this.master_id !== null && this.master_contact_ago_ticks < this.lease_ticks;
  }

  // ---- role changes --------------------------------------------------------

  private becomeSlave(term: number, master_id: number | null, reason: string): void {
    assert(term >= this.term, `step down to term ${term} from term ${this.term}`);
    if (term > this.term) {
      this.term = term;
      this.vote = null;
    }
    if (this.role !== 'slave') this.role_reason = reason;
    this.role = 'slave';
    this.master_commit_index = 0;
    this.pre_candidate = false;
    this.master_id = null;
    this.progress.clear();
    this.read_rounds.clear();
    this.election_elapsed_ticks = 0;
    if (master_id !== null) this.acceptMaster(master_id);
    this.handlers = this.slaveHandlers();
  }

  private acceptMaster(master_id: number): void {
    assert(this.master_id === null || this.master_id === master_id, `two masters in term ${this.term}: ${this.master_id} and ${master_id}`);
    this.master_id = master_id;
    this.last_master_id = master_id;
    this.master_contact_ago_ticks = 0;
    this.election_elapsed_ticks = 0;
  }

  /** Starts (or restarts after a back-off) a campaign with a pre-vote for the next term. */
  private startPreVote(reason: string): void {
    assert(this.role !== 'master', 'a master does not campaign');
    // The next term would be past the bound storage keeps: unreachable in practice, and never a crash.
    if (this.term >= TERM_MAX) return;
    if (this.role !== 'candidate') this.role_reason = reason;
    this.role = 'candidate';
    this.pre_candidate = true;
    this.master_id = null;
    this.handlers = this.candidateHandlers();
    this.campaign_count += 1;
    this.campaign_elapsed_ticks = 0;
    this.campaign_backoff_ticks = this.backoffTicks();
    this.requestVotes(this.term + 1);
  }

  private startElection(): void {
    assert(this.role === 'candidate' && this.pre_candidate, 'an election follows a won pre-vote');
    this.term += 1;
    this.vote = this.id;
    this.pre_candidate = false;
    this.campaign_elapsed_ticks = 0;
    this.requestVotes(this.term);
  }

  private requestVotes(term: number): void {
    this.votes = new Map([[this.id, true]]);
    const last = this.log.lastPosition();
    for (const to of this.others) {
      this.send({ type: 'request_vote', from: this.id, to, term, pre_vote: this.pre_candidate, last_index: last.index, last_term: last.term });
    }
    this.countVotes();
  }

  private countVotes(): void {
    const answers = [...this.votes.values()];
    const granted_count = answers.filter((granted) => granted).length;
    const outcome = voteOutcome({ voter_count: this.config.peers.length, granted_count, refused_count: answers.length - granted_count });
    // A lost campaign waits for its back-off in tickCandidate; nothing to do here.
    if (outcome !== 'won') return;
    if (this.pre_candidate) this.startElection();
    else this.becomeMaster(`won the election of term ${this.term} with ${granted_count} of ${this.config.peers.length} votes`);
  }

  private becomeMaster(reason: string): void {
    assert(this.role === 'candidate' && !this.pre_candidate, 'only a candidate that won its election promotes');
    this.role = 'master';
    this.role_reason = reason;
    this.master_id = this.id;
    this.last_master_id = this.id;
    this.handlers = this.masterHandlers();
    this.heartbeat_elapsed_ticks = 0;
    this.read_rounds.clear();
    this.progress.clear();
    const next_index = this.log.lastIndex() + 1;
    for (const id of this.others) {
      const answered_ago_ticks = this.presumedLive(id) ? 0 : this.config.failover_timeout_ticks;
      this.progress.set(id, newProgress({ id, next_index, answered_ago_ticks, inflight_appends_max: this.config.inflight_appends_max }));
    }
    this.log.appendNew(this.term, null);
    for (const progress of this.progress.values()) this.sendAppends(progress);
    this.maybeCommit();
  }

  /**
   * A new master's first live list: whoever answered its election, plus whoever
   * the previous master last listed as live (everybody, if none was ever heard).
   * Listing only the voters would give every unlisted slave the same low rank,
   * and if this master died at once they would all campaign together and split
   * the vote; the previous list keeps the id order. A slave listed wrongly
   * drops off the list after a fail-over timeout.
   */
  private presumedLive(id: number): boolean {
    return this.votes.has(id) || this.live_ids === null || this.live_ids.includes(id);
  }

  private slaveHandlers(): RoleHandlers<T> {
    return { step: (message) => this.stepSlave(message), tick: () => this.tickSlave() };
  }

  private candidateHandlers(): RoleHandlers<T> {
    return { step: (message) => this.stepCandidate(message), tick: () => this.tickCandidate() };
  }

  private masterHandlers(): RoleHandlers<T> {
    return { step: (message) => this.stepMaster(message), tick: () => this.tickMaster() };
  }

  // ---- slave ---------------------------------------------------------------

  private tickSlave(): void {
    this.election_elapsed_ticks += 1;
    if (this.election_elapsed_ticks < this.electionTimeoutTicks()) return;
    const silent = this.last_master_id === null ? 'no master heard since the start' : `no word from the master (node ${this.last_master_id}) within the fail-over timeout`;
    this.startPreVote(silent);
  }

  /**
   * Before any master has been heard (a cold start), the nodes' processes start
   * with a skew that can exceed the stagger, so each rank waits a whole
   * fail-over timeout more: node 1 still becomes the first master when it is
   * up. Once a master has been heard, clocks are aligned by its heartbeats and
   * the configured stagger is enough.
   */
  private electionTimeoutTicks(): number {
    const stagger_ticks =
      this.live_ids === null
        ? Math.max(this.config.election_stagger_ticks, this.config.failover_timeout_ticks)
        : this.config.election_stagger_ticks;
    return this.config.failover_timeout_ticks + this.rank() * stagger_ticks;
  }

  /** How many slaves should promote before this one: live ones with a lower id, the silent master aside. */
  private rank(): number {
    if (this.live_ids === null) return this.others.filter((id) => id < this.id).length;
    return this.live_ids.filter((id) => id < this.id && id !== this.last_master_id).length;
  }

  private stepSlave(message: Message<T>): void {
    switch (message.type) {
      case 'append_entries':
        this.acceptMaster(message.from);
        this.handleAppend(message);
        return;
      case 'install_snapshot':
        this.acceptMaster(message.from);
        this.handleSnapshot(message);
        return;
      case 'request_vote':
        this.handleVoteRequest(message);
        return;
      case 'append_response':
      case 'vote_response':
        return; // Answers to a role this node no longer has.
    }
  }

  private handleAppend(message: AppendEntries<T>): void {
    this.live_ids = message.live_ids;
    this.master_commit_index = Math.max(this.master_commit_index, message.commit);
    const commit_index = this.log.commit_index;
    // Entries up to our commit are committed, hence identical in the master's log: nothing to check.
    if (message.prev_index < commit_index) {
      this.answerAppend(message, { success: true, index: commit_index, hint_index: 0, hint_term: 0 });
      return;
    }
    if (this.log.term(message.prev_index) !== message.prev_term) {
      const hint = this.log.findConflictByTerm(Math.min(message.prev_index, this.log.lastIndex()), message.prev_term);
      this.answerAppend(message, { success: false, index: message.prev_index, hint_index: hint.index, hint_term: hint.term });
      return;
    }
    this.log.merge(message.entries);
    const last_new_index = message.prev_index + message.entries.length;
    this.log.commitTo(Math.min(message.commit, last_new_index));
    this.answerAppend(message, { success: true, index: last_new_index, hint_index: 0, hint_term: 0 });
  }

  private handleSnapshot(message: InstallSnapshot): void {
    this.live_ids = message.live_ids;
    const meta = message.snapshot.meta;
    this.master_commit_index = Math.max(this.master_commit_index, meta.last_index);
    if (meta.last_index <= this.log.commit_index) {
      this.answerAppend(message, { success: true, index: this.log.commit_index, hint_index: 0, hint_term: 0 });
      return;
    }
    if (this.log.term(meta.last_index) === meta.last_term) {
      // Same entry at the snapshot's end: our log already holds that prefix.
      this.log.commitTo(meta.last_index);
    } else {
      this.log.restore(meta);
      this.snapshot = message.snapshot;
      this.received_snapshot = message.snapshot;
    }
    this.answerAppend(message, { success: true, index: meta.last_index, hint_index: 0, hint_term: 0 });
  }

  private answerAppend(
    message: AppendEntries<T> | InstallSnapshot,
    answer: Pick<AppendResponse, 'success' | 'index' | 'hint_index' | 'hint_term'>,
  ): void {
    const { from: to, read_context } = message;
    this.send({ type: 'append_response', from: this.id, to, term: this.term, ...answer, read_context });
  }

  // ---- voting (any role) ---------------------------------------------------

  private handleVoteRequest(request: RequestVote): void {
    const granted = this.canGrantVote(request);
    if (granted && !request.pre_vote) {
      this.vote = request.from;
      // Give the candidate we voted for a whole timeout to win before campaigning ourselves.
      this.election_elapsed_ticks = 0;
    }
    this.answerVote(request, granted);
  }

  /** Protected only so the simulator's tests can break it and watch the checker fire. */
  protected canGrantVote(request: RequestVote): boolean {
    if (this.inLease()) return false;
    const free =
      this.vote === request.from ||
      (this.vote === null && this.master_id === null) ||
      (request.pre_vote && request.term > this.term);
    return free && this.log.isUpToDate({ index: request.last_index, term: request.last_term });
  }

  private answerVote(request: RequestVote, granted: boolean): void {
    const term = granted && request.pre_vote ? request.term : this.term;
    this.send({ type: 'vote_response', from: this.id, to: request.from, term, pre_vote: request.pre_vote, granted });
  }

  // ---- candidate -----------------------------------------------------------

  private tickCandidate(): void {
    this.campaign_elapsed_ticks += 1;
    if (this.campaign_elapsed_ticks >= this.campaign_backoff_ticks) this.startPreVote('the last campaign did not win');
  }

  /**
   * A failed campaign retries after about one heartbeat, not a whole timeout,
   * so fail-over costs a timeout plus a few round trips. The spread (a hash of
   * id, term and attempt) keeps two candidates from colliding round after round.
   */
  private backoffTicks(): number {
    const heartbeat_ticks = this.config.heartbeat_ticks;
    const spread = mix32(mix32(this.id) ^ Math.imul(this.term + 1, 0x9e3779b1) ^ Math.imul(this.campaign_count, 0x27d4eb2f));
    return heartbeat_ticks + (spread % heartbeat_ticks);
  }

  private stepCandidate(message: Message<T>): void {
    switch (message.type) {
      case 'append_entries':
      case 'install_snapshot':
        // A master of our term exists: follow it.
        this.becomeSlave(this.term, message.from, `node ${message.from} is master of term ${this.term}`);
        this.stepSlave(message);
        return;
      case 'request_vote':
        this.handleVoteRequest(message);
        return;
      case 'vote_response':
        this.handleVoteResponse(message);
        return;
      case 'append_response':
        return;
    }
  }

  private handleVoteResponse(response: VoteResponse): void {
    if (response.pre_vote !== this.pre_candidate) return;
    // A granted pre-vote must be for the term we would move to; anything else answers an older campaign.
    if (response.pre_vote && response.granted && response.term !== this.term + 1) return;
    this.votes.set(response.from, response.granted);
    this.countVotes();
  }

  // ---- master --------------------------------------------------------------

  private tickMaster(): void {
    this.heartbeat_elapsed_ticks += 1;
    for (const progress of this.progress.values()) tickProgress(progress);
    // Check-quorum: a master cut off from a majority stops serving writes and strong reads.
    const reachable_count = this.liveIds().length + 1;
    if (reachable_count < majoritySize(this.config.peers.length)) {
      const heard = `heard from ${reachable_count} of ${this.config.peers.length} nodes within the fail-over timeout`;
      this.becomeSlave(this.term, null, `lost contact with a majority: ${heard}`);
      return;
    }
    if (this.heartbeat_elapsed_ticks < this.config.heartbeat_ticks) return;
    this.heartbeat_elapsed_ticks = 0;
    for (const progress of this.progress.values()) {
      // A snapshot nobody answered within a timeout is taken as lost: probe again, which resends it.
      if (snapshotLost(progress, this.config.failover_timeout_ticks)) becomeProbe(progress, progress.match_index + 1);
      this.heartbeat(progress);
    }
  }

  private stepMaster(message: Message<T>): void {
    switch (message.type) {
      case 'append_response':
        this.handleAppendResponse(message);
        return;
      case 'request_vote':
        this.handleVoteRequest(message);
        return;
      case 'append_entries':
      case 'install_snapshot':
        throw new Error(`replica: two masters in term ${this.term}: ${this.id} and ${message.from}`);
      case 'vote_response':
        return;
    }
  }

  /** The slaves that answered within the fail-over timeout. */
  private liveIds(): number[] {
    const live: number[] = [];
    for (const progress of this.progress.values()) {
      if (answeredWithin(progress, this.config.failover_timeout_ticks)) live.push(progress.id);
    }
    return live;
  }

  private handleAppendResponse(response: AppendResponse): void {
    const progress = this.progress.get(response.from) as Progress<T>;
    answerReceived(progress);
    if (acknowledgeReadRound(progress, response.read_context)) this.releaseReads();
    if (response.success) {
      if (appendSucceeded(progress, response.index)) this.maybeCommit();
    } else {
      // Looked up even for a stale refusal, which ignores it: refusals are rare and the lookup is pure.
      const conflict = this.log.findConflictByTerm(response.hint_index, response.hint_term);
      appendRefused(progress, { refused_index: response.index, conflict_index: conflict.index });
    }
    this.sendAppends(progress);
  }

  /** Sends this slave what it lacks, as far as its state and the pipeline allow. */
  private sendAppends(progress: Progress<T>): void {
    for (let sent = 0; sent <= this.config.inflight_appends_max; sent += 1) {
      if (!this.sendAppend(progress)) return;
    }
  }

  /** Returns whether it sent entries in replicate state (so more may follow). */
  private sendAppend(progress: Progress<T>): boolean {
    if (appendsPaused(progress)) return false;
    if (progress.next_index < this.log.firstIndex()) {
      // A snapshot can be large: send it only to a slave that answers (a dead one gets heartbeats only).
      if (answeredWithin(progress, this.config.failover_timeout_ticks)) this.sendSnapshot(progress);
      return false;
    }
    if (progress.state === 'replicate') return this.sendReplicate(progress);
    const prev_index = progress.next_index - 1;
    const { entries } = this.entriesFrom(progress.next_index, this.config.entries_per_append_max, 0);
    if (this.send(this.appendMessage(progress, prev_index, entries))) probeSent(progress);
    return false;
  }

  private sendReplicate(progress: Progress<T>): boolean {
    if (progress.next_index > this.log.lastIndex()) return false;
    if (this.extendUnsentAppend(progress)) return true;
    if (inflightFull(progress)) return false;
    const { entries, bytes } = this.entriesFrom(progress.next_index, this.config.entries_per_append_max, 0);
    const message = this.appendMessage(progress, progress.next_index - 1, entries);
    if (!this.send(message)) return false;
    appendSent(progress, message, bytes);
    return true;
  }

  /** The entries an append carries from `from_index`: within the count, and within the bytes left after `bytes_used`. */
  private entriesFrom(from_index: number, count_max: number, bytes_used: number): { entries: Entry<T>[]; bytes: number } {
    const { append_bytes_max, entry_bytes } = this.config;
    if (append_bytes_max === undefined || entry_bytes === undefined) return { entries: this.log.slice(from_index, count_max), bytes: 0 };
    return this.log.sliceWithin(from_index, count_max, append_bytes_max - bytes_used, entry_bytes);
  }

  /**
   * Entries proposed before the node drains the outbox join the append already
   * waiting there for this slave, so a burst of proposals leaves as one batch.
   */
  private extendUnsentAppend(progress: Progress<T>): boolean {
    const room = unsentAppendRoom(progress, this.config.entries_per_append_max);
    if (room === 0) return false;
    const unsent_bytes = progress.unsent_append_bytes;
    const { append_bytes_max } = this.config;
    // A full append takes no more: the next entries go in an append of their own.
    if (append_bytes_max !== undefined && unsent_bytes > 0 && unsent_bytes >= append_bytes_max) return false;
    const { entries, bytes } = this.entriesFrom(progress.next_index, room, unsent_bytes);
    if (entries.length === 0) return false;
    if (append_bytes_max !== undefined && unsent_bytes > 0 && unsent_bytes + bytes > append_bytes_max) return false;
    joinUnsentAppend(progress, { entries, bytes, commit_index: this.log.commit_index });
    return true;
  }

  private sendSnapshot(progress: Progress<T>): void {
    const snapshot = this.snapshot;
    assert(snapshot !== null && snapshot.meta.last_index === this.log.firstIndex() - 1, 'a compacted log keeps its snapshot');
    const message: InstallSnapshot = {
      type: 'install_snapshot',
      from: this.id,
      to: progress.id,
      term: this.term,
      snapshot,
      live_ids: this.liveIds(),
      read_context: this.read_rounds.round,
    };
    if (this.send(message)) becomeSnapshot(progress, snapshot.meta.last_index);
  }

  /**
   * Makes sure a message leaves for this slave with the current commit index
   * and read round: the append waiting in the outbox if there is one, else a
   * heartbeat. A heartbeat's prev is the slave's match index, which it
   * acknowledged in this term, so it is never refused and lets the slave
   * commit up to there; when that entry is compacted it is prev 0 instead,
   * which matches any log (committed prefixes are identical).
   */
  private touch(progress: Progress<T>): void {
    if (refreshUnsentAppend(progress, { commit_index: this.log.commit_index, read_round: this.read_rounds.round })) return;
    const prev_index = this.log.term(progress.match_index) === null ? 0 : progress.match_index;
    const message = this.appendMessage(progress, prev_index, []);
    if (this.send(message)) heartbeatSent(progress, message);
  }

  /**
   * The periodic heartbeat. To a slave with appends in flight it claims the last
   * entry sent (prev = next_index - 1) instead of the match index: the answer
   * either acknowledges everything in flight or is refused because an append
   * was lost, which re-probes the slave. Without it, a lost append with nothing
   * proposed after it would never be noticed.
   */
  private heartbeat(progress: Progress<T>): void {
    const last_sent_index = progress.next_index - 1;
    if (!sentBeyondMatch(progress) || progress.unsent_append !== null || this.log.term(last_sent_index) === null) {
      this.touch(progress);
      return;
    }
    const message = this.appendMessage(progress, last_sent_index, []);
    if (this.send(message)) heartbeatSent(progress, message);
  }

  private appendMessage(progress: Progress<T>, prev_index: number, entries: Entry<T>[]): AppendEntries<T> {
    const prev_term = prev_index === 0 ? 0 : this.log.term(prev_index);
    assert(prev_term !== null, `no term for prev index ${prev_index}`);
    return {
      type: 'append_entries',
      from: this.id,
      to: progress.id,
      term: this.term,
      prev_index,
      prev_term,
      entries,
      commit: this.log.commit_index,
      live_ids: this.liveIds(),
      read_context: this.read_rounds.round,
    };
  }

  /** Commits what a majority stores, if it is of this term (Raft §5.4.2), and tells the slaves. */
  private maybeCommit(): void {
    const acknowledged = [this.log.lastIndex()];
    for (const progress of this.progress.values()) acknowledged.push(progress.match_index);
    const index = committedIndex(acknowledged);
    if (index <= this.log.commit_index || this.log.term(index) !== this.term) return;
    this.log.commitTo(index);
    for (const progress of this.progress.values()) {
      if (progress.state === 'replicate') this.touch(progress);
    }
  }

  /** Releases, in order, the reads whose round a majority (this master included) has answered. */
  private releaseReads(): void {
    const slave_rounds: number[] = [];
    for (const progress of this.progress.values()) slave_rounds.push(progress.read_acknowledged);
    for (const read_state of this.read_rounds.release(slave_rounds)) this.read_states.push(read_state);
  }

  // ---- plumbing --------------------------------------------------------------

  private send(message: Message<T>): boolean {
    if (this.outbox.length >= this.outbox_messages_max) {
      this.messages_dropped += 1;
      return false;
    }
    this.outbox.push(message);
    return true;
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.commit_index };
  }

  private hardStateChanged(): boolean {
    const persisted = this.persisted_hard_state;
    return persisted.term !== this.term || persisted.vote !== this.vote || persisted.commit !== this.log.commit_index;
  }

  private assertAddressed(message: Message<T>): void {
    // Checked on every message: messages are built only on failure.
    if (message.to !== this.id) throw new Error(`replica: message for ${message.to} stepped into ${this.id}`);
    if (message.from === this.id || !this.others.includes(message.from)) throw new Error(`replica: message from unknown node ${message.from}`);
    if (!(message.term >= 0)) throw new Error(`replica: bad term ${message.term}`);
  }
}
