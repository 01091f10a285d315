/**
 * What a master knows about each slave, and how that knowledge changes with
 * every send and every answer (etcd's tracker/progress.go and inflights.go).
 * It lives apart from the replica so that the decisions — probe or pipeline,
 * which answers are stale, when an append counts as lost, when a snapshot has
 * landed — are plain functions with their own table tests. Pure: the replica
 * reports what it sent and what came back; nothing here reads the log, builds
 * a message or sends one (it only lets entries join an append that is still
 * waiting in the outbox).
 */
import type { AppendEntries, Entry } from './messages';

// Bound once: global lookups are slow inside jest's vm context, where the simulator runs this hot.
const max = Math.max;
const min = Math.min;

/** Counters stop here, so a long-dead peer does not count towards infinity. */
export const TICKS_AGO_MAX = 1_000_000_000;

/**
 * probe: one append at a time, to find where the logs match; replicate: appends
 * pipelined up to the window; snapshot: nothing but heartbeats until the
 * snapshot sent lands.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** What the master knows about one slave (etcd's Progress). */
export interface Progress<T> {
  id: number;
  /** Highest index known to match the master's log (from this term's answers). */
  match_index: number;
  /** The first index the next append carries. */
  next_index: number;
  state: ProgressState;
  /** probe: a probe is out and unanswered, so no other goes. */
  probe_paused: boolean;
  /** replicate: the last index of each unanswered append, oldest first; at most inflight_appends_max. */
  inflight_last_indexes: number[];
  /** The size of the in-flight window (the replica's config, kept here like etcd's Inflights.size). */
  inflight_appends_max: number;
  /**
   * replicate: a heartbeat left while the window was full, so one answer that frees nothing may
   * free a slot (see freeInflight). Only a heartbeat earns it: a stale or duplicated answer to an
   * append must not send anything, or each duplicate lives on as one more append/answer pair.
   */
  free_one_allowed: boolean;
  /** snapshot: the last index the snapshot sent covers; the slave replicates again once it matches that far. */
  snapshot_index: number;
  snapshot_sent_ago_ticks: number;
  answered_ago_ticks: number;
  /** The highest read round this slave has answered in this term. */
  read_acknowledged: number;
  /** An append to this slave still in the outbox: later entries, commits and read rounds ride on it. */
  unsent_append: AppendEntries<T> | null;
  /** The bytes of the entries in unsent_append, as the replica's entry_bytes counts them. */
  unsent_append_bytes: number;
  /** Refusals of entries the slave had acknowledged, since its last success (see appendRefused). */
  refusals_below_match: number;
}

/**
 * A slave that refuses entries it acknowledged this often in a row, without
 * a success between, has lost its log (a lost disk, a restart with
 * `--in-memory`). Once could be a refusal delayed past the success that
 * followed it.
 */
export const LOST_LOG_REFUSALS = 2;

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`progress: ${message}`);
}

/** A new master's view of a slave: nothing known to match, probing from the end of its own log. */
export function newProgress<T>(input: {
  id: number;
  next_index: number;
  answered_ago_ticks: number;
  inflight_appends_max: number;
}): Progress<T> {
  return {
    id: input.id,
    match_index: 0,
    next_index: input.next_index,
    state: 'probe',
    probe_paused: false,
    inflight_last_indexes: [],
    inflight_appends_max: input.inflight_appends_max,
    free_one_allowed: false,
    snapshot_index: 0,
    snapshot_sent_ago_ticks: 0,
    answered_ago_ticks: input.answered_ago_ticks,
    read_acknowledged: 0,
    unsent_append: null,
    unsent_append_bytes: 0,
    refusals_below_match: 0,
  };
}

// ---- time and answers ------------------------------------------------------

export function tickProgress<T>(progress: Progress<T>): void {
  progress.answered_ago_ticks = min(progress.answered_ago_ticks + 1, TICKS_AGO_MAX);
  progress.snapshot_sent_ago_ticks = min(progress.snapshot_sent_ago_ticks + 1, TICKS_AGO_MAX);
}

/** Whether the slave answered within `ticks`: the master lists it as live, and sends a snapshot only to a live slave. */
export function answeredWithin<T>(progress: Progress<T>, ticks: number): boolean {
  return progress.answered_ago_ticks < ticks;
}

/** A snapshot nobody answered within the fail-over timeout is taken as lost. */
export function snapshotLost<T>(progress: Progress<T>, failover_timeout_ticks: number): boolean {
  return progress.state === 'snapshot' && progress.snapshot_sent_ago_ticks >= failover_timeout_ticks;
}

export function answerReceived<T>(progress: Progress<T>): void {
  progress.answered_ago_ticks = 0;
}

/** Returns whether the answer acknowledged a newer read round than any before it (answers arrive in any order). */
export function acknowledgeReadRound<T>(progress: Progress<T>, read_round: number): boolean {
  if (read_round <= progress.read_acknowledged) return false;
  progress.read_acknowledged = read_round;
  return true;
}

// ---- state transitions -----------------------------------------------------

export function becomeProbe<T>(progress: Progress<T>, next_index: number): void {
  progress.state = 'probe';
  progress.probe_paused = false;
  progress.next_index = next_index;
  forgetInflight(progress);
}

export function becomeReplicate<T>(progress: Progress<T>): void {
  progress.state = 'replicate';
  progress.next_index = progress.match_index + 1;
  forgetInflight(progress);
}

/** A snapshot ending at `snapshot_index` left for the slave: wait for it to land. */
export function becomeSnapshot<T>(progress: Progress<T>, snapshot_index: number): void {
  progress.state = 'snapshot';
  progress.snapshot_index = snapshot_index;
  progress.snapshot_sent_ago_ticks = 0;
  forgetInflight(progress);
}

/** A change of state restarts the pipeline: what is in flight no longer counts, and nothing joins it. */
export function forgetInflight<T>(progress: Progress<T>): void {
  progress.inflight_last_indexes = [];
  progress.free_one_allowed = false;
  progress.unsent_append = null;
  progress.unsent_append_bytes = 0;
}

/**
 * The slave stores the master's log up to `acknowledged_index`. Returns whether
 * the match index advanced (then the commit index may too).
 */
export function appendSucceeded<T>(progress: Progress<T>, acknowledged_index: number): boolean {
  progress.refusals_below_match = 0;
  const advanced = acknowledged_index > progress.match_index;
  if (advanced) progress.match_index = acknowledged_index;
  progress.next_index = max(progress.next_index, acknowledged_index + 1);
  if (progress.state === 'probe') becomeReplicate(progress);
  else if (progress.state === 'snapshot' && progress.match_index >= progress.snapshot_index) becomeReplicate(progress);
  else if (progress.state === 'replicate') freeInflight(progress, acknowledged_index);
  return advanced;
}

/**
 * The slave refused the append whose prev index was `refused_index`.
 * `conflict_index` is the master's reading of the slave's hint: the last index
 * where the two logs may still agree (the log's findConflictByTerm).
 */
export function appendRefused<T>(progress: Progress<T>, refusal: { refused_index: number; conflict_index: number }): void {
  const { refused_index, conflict_index } = refusal;
  if (progress.state === 'snapshot') return;
  if (refused_index <= progress.match_index && conflict_index < progress.match_index && lostItsLog(progress, refused_index)) {
    // Nothing is known to match any more: probe from where the slave's log may still agree (a snapshot if compacted).
    progress.match_index = 0;
    progress.refusals_below_match = 0;
    becomeProbe(progress, max(1, min(refused_index, conflict_index + 1)));
    return;
  }
  if (progress.state === 'replicate' && refused_index <= progress.match_index) return; // stale
  if (progress.state === 'probe' && refused_index !== progress.next_index - 1) {
    progress.probe_paused = false; // stale, but the slave is reachable: probe again
    return;
  }
  becomeProbe(progress, max(progress.match_index + 1, min(refused_index, conflict_index + 1)));
}

/**
 * The slave refused an entry it had acknowledged. That is a refusal delayed
 * past the success that followed it, or a slave that lost its log: the
 * answer to the current probe says so at once, a repeat does too.
 */
function lostItsLog<T>(progress: Progress<T>, refused_index: number): boolean {
  progress.refusals_below_match += 1;
  const answers_current_probe = progress.state === 'probe' && refused_index === progress.next_index - 1;
  return answers_current_probe || progress.refusals_below_match >= LOST_LOG_REFUSALS;
}

/** An answer acknowledged the log up to `acknowledged_index`: the appends it covers leave the window. */
export function freeInflight<T>(progress: Progress<T>, acknowledged_index: number): void {
  const inflight = progress.inflight_last_indexes;
  let freed = 0;
  while (freed < inflight.length && (inflight[freed] as number) <= acknowledged_index) freed += 1;
  inflight.splice(0, freed);
  // An answer that freed nothing while the window is full, after a heartbeat sent while it was full
  // (etcd frees one on a heartbeat's answer, and only there): appends may have been lost, so let one
  // more go; a lost one is then refused and the slave re-probed. Any other such answer is stale or a
  // duplicate and sends nothing: at most one extra append per heartbeat, however many copies arrive.
  if (freed === 0 && inflight.length >= progress.inflight_appends_max && progress.free_one_allowed) {
    inflight.shift();
    progress.free_one_allowed = false;
  }
  // Nothing left in flight yet the slave lacks entries we sent: they were lost. Send them again
  // (with no later append to be refused, nothing else would notice).
  if (inflight.length === 0 && progress.next_index > progress.match_index + 1) progress.next_index = progress.match_index + 1;
}

// ---- sending ---------------------------------------------------------------

/** Whether no append may go: a snapshot is on its way, or a probe waits for its answer. */
export function appendsPaused<T>(progress: Progress<T>): boolean {
  return progress.state === 'snapshot' || (progress.state === 'probe' && progress.probe_paused);
}

export function inflightFull<T>(progress: Progress<T>): boolean {
  return progress.inflight_last_indexes.length >= progress.inflight_appends_max;
}

/** Whether entries sent in replicate state still wait for an acknowledgement. */
export function sentBeyondMatch<T>(progress: Progress<T>): boolean {
  return progress.state === 'replicate' && progress.next_index - 1 > progress.match_index;
}

/** A probe left: no other goes until it is answered. */
export function probeSent<T>(progress: Progress<T>): void {
  progress.probe_paused = true;
}

/** A replicate-state append carrying entries from next_index left: it joins the window and later entries follow it. */
export function appendSent<T>(progress: Progress<T>, message: AppendEntries<T>, bytes = 0): void {
  assert(message.prev_index === progress.next_index - 1, `append after ${message.prev_index} sent with next index ${progress.next_index}`);
  progress.unsent_append = message;
  progress.unsent_append_bytes = bytes;
  const last_index = progress.next_index + message.entries.length - 1;
  progress.inflight_last_indexes.push(last_index);
  progress.next_index = last_index + 1;
}

/** A heartbeat left: it joins no window, but later entries, commits and read rounds may ride on it. */
export function heartbeatSent<T>(progress: Progress<T>, message: AppendEntries<T>): void {
  if (progress.state === 'replicate' && inflightFull(progress)) progress.free_one_allowed = true;
  progress.unsent_append = message;
  progress.unsent_append_bytes = 0;
}

/** The node took the outbox: what is in it is on its way, and nothing more joins it. */
export function outboxTaken<T>(progress: Progress<T>): void {
  progress.unsent_append = null;
  progress.unsent_append_bytes = 0;
}

/** Brings the append waiting in the outbox up to date; returns false when none waits. */
export function refreshUnsentAppend<T>(progress: Progress<T>, latest: { commit_index: number; read_round: number }): boolean {
  const unsent = progress.unsent_append;
  if (unsent === null) return false;
  unsent.commit = latest.commit_index;
  unsent.read_context = latest.read_round;
  return true;
}

/**
 * How many more entries may join the append waiting in the outbox: 0 when none
 * waits, it does not end where the next entries start, it is full, or it is a
 * heartbeat (which would become an append) and the window is full.
 */
export function unsentAppendRoom<T>(progress: Progress<T>, entries_per_append_max: number): number {
  const message = progress.unsent_append;
  if (message === null || message.prev_index + message.entries.length !== progress.next_index - 1) return 0;
  const room = entries_per_append_max - message.entries.length;
  if (room <= 0 || (message.entries.length === 0 && inflightFull(progress))) return 0;
  return room;
}

/** Entries from next_index join the append waiting in the outbox, which then carries the latest commit index. */
export function joinUnsentAppend<T>(progress: Progress<T>, joined: { entries: Entry<T>[]; bytes?: number; commit_index: number }): void {
  const message = progress.unsent_append;
  assert(message !== null && joined.entries.length > 0, 'entries join only an append waiting in the outbox');
  const had_entries = message.entries.length > 0;
  progress.unsent_append_bytes += joined.bytes ?? 0;
  for (const entry of joined.entries) message.entries.push(entry);
  message.commit = joined.commit_index;
  const last_index = progress.next_index + joined.entries.length - 1;
  const inflight = progress.inflight_last_indexes;
  if (had_entries) inflight[inflight.length - 1] = last_index;
  else inflight.push(last_index);
  progress.next_index = last_index + 1;
}
