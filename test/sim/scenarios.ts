/**
 * Simulation scenarios. Each takes one seed and derives everything from it:
 * cluster size, limits, network faults, crashes, partitions, pauses,
 * compactions, proposals and reads. A failure names the seed to replay.
 */
import { Random } from '../support/random';
import type { ReplicaStatus } from '../../src/replication/messages';
import { majoritySize } from '../../src/replication/quorum';
import { type ReplicaFactory, type ReplicaLimits, SimCluster, type SimNode } from './cluster';
import type { NetworkFaults } from './network';

export class LivenessFailure extends Error {
  override name = 'LivenessFailure';
}

/** The default timing of config.json at 10 ms per tick: heartbeat 100 ms, timeout 1 s, stagger 300 ms. */
export const DEFAULT_LIMITS: ReplicaLimits = {
  heartbeat_ticks: 10,
  failover_timeout_ticks: 100,
  election_stagger_ticks: 30,
  entries_per_append_max: 64,
  inflight_appends_max: 4,
  proposals_pending_max: 1000,
  read_requests_max: 100,
};

export interface FaultRunSummary {
  node_count: number;
  ticks: number;
  masters_elected: number;
  committed: number;
  reads_confirmed: number;
  /** Ticks from the end of faults to a master every running node follows. */
  recovery_ticks: number;
  counts: SimCluster['counts'];
}

function randomLimits(random: Random): ReplicaLimits {
  const heartbeat_ticks = random.integer(2, 5);
  return {
    heartbeat_ticks,
    failover_timeout_ticks: heartbeat_ticks * random.integer(4, 8) + random.integer(0, heartbeat_ticks),
    election_stagger_ticks: random.integer(0, 2 * heartbeat_ticks),
    entries_per_append_max: random.integer(1, 8),
    inflight_appends_max: random.integer(1, 4),
    proposals_pending_max: random.integer(3, 40),
    read_requests_max: random.integer(1, 8),
  };
}

function randomFaults(random: Random, heartbeat_ticks: number): NetworkFaults {
  return {
    drop_probability: random.pick([0, 0, 0.02, 0.1, 0.3]),
    duplicate_probability: random.pick([0, 0.02, 0.1]),
    delay_min_ticks: 1,
    delay_max_ticks: random.pick([1, 2, heartbeat_ticks, 2 * heartbeat_ticks]),
  };
}

/** One random fault, drawn from the seed. */
function injectFault(cluster: SimCluster, random: Random, limits: ReplicaLimits): void {
  const ids = cluster.ids;
  const node = cluster.node(random.pick(ids));
  switch (random.integer(0, 8)) {
    case 0:
      cluster.crash(node.id);
      return;
    case 1:
      cluster.restart(node.id);
      return;
    case 2: {
      const shuffled = random.shuffle([...ids]);
      const cut = random.integer(1, Math.max(1, ids.length - 1));
      cluster.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      cluster.trace(`partition ${shuffled.slice(0, cut)} | ${shuffled.slice(cut)}`);
      return;
    }
    case 3: {
      const to = random.pick(ids);
      if (to !== node.id) cluster.network.cutLink(node.id, to);
      cluster.trace(`cut ${node.id} > ${to}`);
      return;
    }
    case 4:
      cluster.network.heal();
      cluster.trace('healed the network');
      return;
    case 5:
      node.paused = !node.paused && node.alive;
      cluster.trace(`node ${node.id} ${node.paused ? 'paused' : 'resumed'}`);
      return;
    case 6:
      cluster.network.faults = randomFaults(random, limits.heartbeat_ticks);
      cluster.trace(`network now ${JSON.stringify(cluster.network.faults)}`);
      return;
    case 7: {
      const master = cluster.masters()[0];
      if (master !== undefined) cluster.crash(master.id, '(the master)');
      return;
    }
    default:
      for (const each of cluster.nodes) cluster.restart(each.id);
  }
}

/** Client traffic and housekeeping for one tick. */
function clientStep(cluster: SimCluster, random: Random): void {
  if (random.chance(0.4)) {
    const master = cluster.masters()[0];
    cluster.propose(master !== undefined && random.chance(0.8) ? master.id : random.pick(cluster.ids));
  }
  if (random.chance(0.1)) {
    const master = cluster.masters()[0];
    if (master !== undefined) cluster.readIndex(master.id);
  }
  if (random.chance(0.03)) cluster.compact(random.pick(cluster.ids));
}

/** Runs until every running node follows one master; returns it. */
export function awaitAgreedMaster(cluster: SimCluster, ticks_max: number, random: Random | null): SimNode {
  for (let waited = 0; waited <= ticks_max; waited += 1) {
    const master = cluster.agreedMaster();
    if (master !== null) return master;
    if (random !== null) clientStep(cluster, random);
    cluster.tick();
  }
  throw new LivenessFailure(`no agreed master within ${ticks_max} ticks`);
}

/**
 * Runs until one master has been followed by every running node for a whole
 * fail-over timeout (timers left over from the faults, such as a check-quorum
 * count, have then run out), and returns it.
 */
function awaitStableMaster(cluster: SimCluster, limits: ReplicaLimits, ticks_max: number): SimNode {
  const deadline = cluster.now_tick + ticks_max;
  const stable_ticks = limits.failover_timeout_ticks + limits.heartbeat_ticks;
  for (;;) {
    const master = awaitAgreedMaster(cluster, Math.max(0, deadline - cluster.now_tick), null);
    const term = (master.status() as ReplicaStatus).term;
    let stable = 0;
    while (stable < stable_ticks && cluster.agreedMaster() === master && master.status()?.term === term) {
      cluster.tick();
      stable += 1;
    }
    if (stable >= stable_ticks) return master;
    if (cluster.now_tick > deadline) throw new LivenessFailure(`no master stayed in charge for ${stable_ticks} ticks within ${ticks_max} ticks`);
  }
}

/**
 * Ticks the slowest running node needs to receive what it lacks of the master's log (plus `more` entries)
 * at the pace the limits allow: inflight_appends_max appends of entries_per_append_max entries per round
 * trip of 2 * delay_max_ticks, and one round trip more for a snapshot. A node that was paused or cut off
 * for long is far behind; with a window of one append of one entry it gets one entry per round trip.
 */
function catchUpTicks(cluster: SimCluster, master: SimNode, limits: ReplicaLimits, more: number): number {
  const last_index = (master.status() as ReplicaStatus).last_index + more;
  const behind = Math.max(0, ...cluster.nodes.filter((node) => node.alive).map((node) => last_index - node.machine.applied_index));
  const round_trips = Math.ceil(behind / (limits.entries_per_append_max * limits.inflight_appends_max)) + 1;
  return round_trips * 2 * cluster.network.faults.delay_max_ticks;
}

/** Once a master is stable, `count` proposals at it must commit and be applied on every running node. */
function awaitProposalsApplied(cluster: SimCluster, master: SimNode, limits: ReplicaLimits, count: number, bound_ticks: number): void {
  const ticks_max = bound_ticks + catchUpTicks(cluster, master, limits, count);
  const deadline = cluster.now_tick + ticks_max;
  const term = (master.status() as ReplicaStatus).term;
  const wanted: number[] = [];
  while (wanted.length < count) {
    const index = cluster.propose(master.id);
    if (index !== null) wanted.push(index);
    else if (master.status()?.role !== 'master') throw new LivenessFailure(`stable master ${master.id} lost its role`);
    if (cluster.now_tick > deadline) throw new LivenessFailure(`proposals not accepted within ${ticks_max} ticks`);
    cluster.tick();
  }
  const last_index = Math.max(...wanted);
  const running = cluster.nodes.filter((node) => node.alive);
  while (!running.every((node) => node.machine.applied_index >= last_index)) {
    if (cluster.now_tick > deadline) throw new LivenessFailure(`proposals up to ${last_index} not applied everywhere within ${ticks_max} ticks`);
    cluster.tick();
  }
  for (const index of wanted) {
    if (cluster.checker.committedAt(index)?.term !== term) throw new LivenessFailure(`proposal at ${index} of stable term ${term} was lost`);
  }
}

export function runFaultScenario(seed: number, factory?: ReplicaFactory): FaultRunSummary {
  const random = new Random(seed);
  const node_count = random.pick([1, 2, 3, 3, 3, 3, 4, 5, 5, 5]);
  // Mostly small random timings (more elections per tick simulated); sometimes the production timing.
  const limits = random.chance(0.05) ? { ...DEFAULT_LIMITS, inflight_appends_max: random.integer(1, 4), proposals_pending_max: 40 } : randomLimits(random);
  const faults = randomFaults(random, limits.heartbeat_ticks);
  const cluster = new SimCluster({ random: random.fork(), node_count, limits, faults, factory, crash_in_ready_probability: 0.0005 });
  try {
    return runFaultsThenRecover(cluster, random, limits);
  } catch (error) {
    throw withReplay(error, seed, 'faults', cluster);
  }
}

function runFaultsThenRecover(cluster: SimCluster, random: Random, limits: ReplicaLimits): FaultRunSummary {
  const fault_ticks = random.integer(200, 1000) * Math.ceil(limits.heartbeat_ticks / 5);
  const fault_probability = 1 / (2 * limits.failover_timeout_ticks);
  for (let tick = 0; tick < fault_ticks; tick += 1) {
    if (random.chance(fault_probability)) injectFault(cluster, random, limits);
    clientStep(cluster, random);
    cluster.tick();
  }
  // Faults stop; a majority is up and connected (a minority may stay down).
  const node_count = cluster.nodes.length;
  const down = random.shuffle([...cluster.ids]).slice(0, random.integer(0, node_count - majoritySize(node_count)));
  cluster.network.heal();
  cluster.network.faults = { drop_probability: 0, duplicate_probability: 0, delay_min_ticks: 1, delay_max_ticks: Math.max(1, Math.floor(limits.heartbeat_ticks / 2)) };
  cluster.crash_in_ready_probability = 0;
  for (const node of cluster.nodes) {
    node.paused = false;
    if (down.includes(node.id)) cluster.crash(node.id, '(stays down)');
    else cluster.restart(node.id);
  }
  cluster.trace(`faults stop; down: ${down}`);
  const recovery_start = cluster.now_tick;
  const bound_ticks = recoveryBoundTicks(limits, node_count);
  awaitAgreedMaster(cluster, bound_ticks, null);
  const recovery_ticks = cluster.now_tick - recovery_start;
  const master = awaitStableMaster(cluster, limits, bound_ticks);
  awaitProposalsApplied(cluster, master, limits, 5, bound_ticks);
  return {
    node_count,
    ticks: cluster.now_tick,
    masters_elected: cluster.checker.masters_elected,
    committed: cluster.checker.committedCount(),
    reads_confirmed: cluster.checker.reads_confirmed,
    recovery_ticks,
    counts: cluster.counts,
  };
}

/**
 * Liveness bound after faults stop: a node left at a higher term may depose a
 * master once, and each election takes at most a timeout, the stagger of every
 * rank and a few back-offs. Generous on purpose; the measured maximum is reported.
 */
export function recoveryBoundTicks(limits: ReplicaLimits, node_count: number): number {
  const election_ticks = limits.failover_timeout_ticks + (node_count - 1) * limits.election_stagger_ticks + 10 * limits.heartbeat_ticks;
  return 4 * election_ticks;
}

export interface OrderRunSummary {
  node_count: number;
  killed: number;
  expected: number;
  elected: number;
  lagging: number | null;
  /** The lowest-id running slave: the successor when its log is complete. */
  first_in_order: number;
  /** Ticks from the kill to the new master's promotion, and to its first commit. */
  promote_ticks: number;
  writable_ticks: number;
}

/** The lowest id whose log is at least as up to date as those of a majority of the cluster, among running nodes. */
export function expectedSuccessor(cluster: SimCluster): number {
  const running = cluster.nodes.filter((node) => node.alive);
  const majority = majoritySize(cluster.nodes.length);
  const upToDate = (candidate: SimNode, voter: SimNode) =>
    candidate.disk.lastTerm() > voter.disk.lastTerm() ||
    (candidate.disk.lastTerm() === voter.disk.lastTerm() && candidate.disk.lastIndex() >= voter.disk.lastIndex());
  const qualified = running.filter((candidate) => running.filter((voter) => upToDate(candidate, voter)).length >= majority);
  if (qualified.length === 0) throw new Error('no running node can win');
  return Math.min(...qualified.map((node) => node.id));
}

/**
 * No faults but one: the master is killed (optionally after one slave's link
 * from it was cut for less than a timeout, so that slave lags but still
 * counts as live). The new master must be the lowest-id running slave whose
 * log a majority accepts; at a fresh start it must be node 1.
 */
export function runOrderScenario(seed: number): OrderRunSummary {
  const random = new Random(seed);
  const node_count = random.pick([3, 5]);
  const limits = DEFAULT_LIMITS;
  const faults: NetworkFaults = { drop_probability: 0, duplicate_probability: 0, delay_min_ticks: 1, delay_max_ticks: 2 };
  const cluster = new SimCluster({ random: random.fork(), node_count, limits, faults });
  try {
    return runOrder(cluster, random, limits);
  } catch (error) {
    throw withReplay(error, seed, 'order', cluster);
  }
}

function runOrder(cluster: SimCluster, random: Random, limits: ReplicaLimits): OrderRunSummary {
  const first = awaitAgreedMaster(cluster, 3 * limits.failover_timeout_ticks, null);
  if (first.id !== 1) throw new Error(`at a fresh start node ${first.id} promoted, not node 1`);
  const master = first;
  proposeFor(cluster, master, random.integer(0, 200), random);
  let lagging: number | null = null;
  if (random.chance(0.5)) {
    const slaves = cluster.ids.filter((id) => id !== master.id);
    lagging = random.pick(slaves);
    cluster.network.cutLink(master.id, lagging);
    cluster.trace(`cut ${master.id} > ${lagging}`);
    proposeFor(cluster, master, random.integer(10, limits.failover_timeout_ticks - 2 * limits.heartbeat_ticks), random);
  }
  cluster.crash(master.id, '(the master, killed)');
  cluster.network.dropFrom(master.id);
  cluster.network.heal();
  const killed_tick = cluster.now_tick;
  const expected = expectedSuccessor(cluster);
  const { promoted, promote_ticks, writable_ticks } = awaitSuccessor(cluster, killed_tick, 20 * limits.failover_timeout_ticks);
  if (promoted !== expected) {
    throw new Error(`node ${promoted} promoted after the master died; the candidate order wants node ${expected}`);
  }
  const first_in_order = Math.min(...cluster.ids.filter((id) => id !== master.id));
  return { node_count: cluster.nodes.length, killed: master.id, expected, elected: promoted, lagging, first_in_order, promote_ticks, writable_ticks };
}

function proposeFor(cluster: SimCluster, master: SimNode, ticks: number, random: Random): void {
  for (let tick = 0; tick < ticks; tick += 1) {
    if (random.chance(0.5)) cluster.propose(master.id);
    cluster.tick();
  }
}

function awaitSuccessor(cluster: SimCluster, killed_tick: number, ticks_max: number): { promoted: number; promote_ticks: number; writable_ticks: number } {
  let promoted: SimNode | null = null;
  let promote_ticks = 0;
  while (cluster.now_tick - killed_tick <= ticks_max) {
    cluster.tick();
    if (promoted === null) {
      promoted = cluster.masters()[0] ?? null;
      promote_ticks = cluster.now_tick - killed_tick;
    }
    if (promoted === null) continue;
    const status = promoted.status() as ReplicaStatus;
    const committed = cluster.checker.committedAt(status.commit_index);
    if (committed !== undefined && committed.term === status.term) {
      return { promoted: promoted.id, promote_ticks, writable_ticks: cluster.now_tick - killed_tick };
    }
  }
  throw new LivenessFailure(`no new master could write within ${ticks_max} ticks of the kill`);
}

/** Adds the seed, a one-line replay command, the cluster's state and its recent history to a failure. */
function withReplay(error: unknown, seed: number, scenario: string, cluster: SimCluster): Error {
  const original = error instanceof Error ? error : new Error(String(error));
  const wrapped = new Error(
    `${original.name}: ${original.message}\n` +
      `  scenario ${scenario}, seed ${seed}, tick ${cluster.now_tick}\n` +
      `  replay: SEED=${seed} npx jest test/sim\n\n` +
      `${cluster.describe()}\n\nrecent events:\n${cluster.recentTrace()}\n\n${original.stack ?? ''}`,
  );
  wrapped.name = original.name;
  return wrapped;
}
