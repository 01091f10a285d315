/**
 * Scenarios for the node-level simulator: real ddb nodes, clients writing
 * and reading through any node (so slaves forward writes and share
 * read-index requests), compaction and snapshot installs, and faults drawn
 * from the seed: crashes (also inside an fsync), restarts, pauses,
 * partitions, one-way cuts, lossy and slow links. After the faults stop a
 * majority must elect a stable master, every acknowledged write must be on
 * every running node, and their databases must be byte-identical.
 */
import type { Command } from '../../../database/commands';
import { REPLICA_LIMITS, type ReplicaLimits } from '../../../src/node/node';
import type { ReplicaStatus } from '../../../src/replication/messages';
import { majoritySize } from '../../../src/replication/quorum';
import { DdbError } from '../../../utils/errors';
import { Random } from '../../support/random';
import { InvariantViolation } from '../checker';
import { LivenessFailure } from '../scenarios';
import { DISK_LATENCY_MAX_MS, type NodeSimCluster, type NodeTimings, NodeSimCluster as Cluster, type SimMember } from './node-cluster';
import { CALM_LINKS, type LinkFaults } from './sim-links';

export interface NodeRunSummary {
  node_count: number;
  simulated_ms: number;
  events: number;
  masters_elected: number;
  committed: number;
  acknowledged_writes: number;
  strong_reads: number;
  forwarded_ok: number;
  counts: NodeSimCluster['counts'];
}

const TABLE = 'items';

function randomTimings(random: Random): NodeTimings {
  const heartbeat_ms = random.integer(10, 25);
  const failover_timeout_ms = heartbeat_ms * random.integer(4, 8) + random.integer(0, heartbeat_ms);
  return {
    heartbeat_ms,
    failover_timeout_ms,
    election_stagger_ms: random.integer(0, 2 * heartbeat_ms),
    log_entries_max: random.pick([10, 10, 20, 50, 10_000]),
    write_timeout_ms: 3 * failover_timeout_ms,
  };
}

function randomLimits(random: Random): ReplicaLimits {
  if (random.chance(0.1)) return { ...REPLICA_LIMITS };
  return {
    entries_per_append_max: random.integer(1, 8),
    inflight_appends_max: random.integer(1, 4),
    proposals_pending_max: random.integer(5, 60),
    read_requests_max: random.integer(2, 16),
  };
}

function randomLinks(random: Random, heartbeat_ms: number): LinkFaults {
  return {
    drop_probability: random.pick([0, 0, 0.02, 0.1, 0.3]),
    duplicate_probability: random.pick([0, 0.02, 0.1]),
    delay_min_ms: 1,
    delay_max_ms: random.pick([1, 3, heartbeat_ms, 2 * heartbeat_ms]),
  };
}

/** One random fault, drawn from the seed. */
function injectFault(cluster: NodeSimCluster, random: Random, heartbeat_ms: number): void {
  const ids = cluster.ids;
  const id = random.pick(ids);
  switch (random.integer(0, 8)) {
    case 0:
      return cluster.crash(id);
    case 1:
      return cluster.restart(id);
    case 2: {
      const shuffled = random.shuffle([...ids]);
      const cut = random.integer(1, Math.max(1, ids.length - 1));
      cluster.links.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      return cluster.trace(`partition ${shuffled.slice(0, cut)} | ${shuffled.slice(cut)}`);
    }
    case 3: {
      const to = random.pick(ids);
      if (to !== id) cluster.links.cutLink(id, to);
      return cluster.trace(`cut ${id} > ${to}`);
    }
    case 4:
      cluster.links.heal();
      return cluster.trace('healed the network');
    case 5:
      return cluster.member(id).life.paused ? cluster.resume(id) : cluster.pause(id);
    case 6:
      cluster.links.faults = randomLinks(random, heartbeat_ms);
      return cluster.trace(`links now ${JSON.stringify(cluster.links.faults)}`);
    case 7: {
      const master = cluster.masters()[0];
      if (master !== undefined) cluster.crash(master.id, '(the master)');
      return;
    }
    default:
      for (const member of cluster.members) cluster.restart(member.id);
  }
}

interface Workload {
  acknowledged: Set<string>;
  strong_reads: number;
  forwarded_ok: number;
}

function insertOf(row_id: string, value: number): Command {
  return { type: 'insert', db_name: null, table_name: TABLE, row_id, data: { v: value } };
}

/** One client: writes a fresh row through a random node, or reads strongly, then thinks a little. */
async function runClient(cluster: NodeSimCluster, random: Random, name: string, until_ms: number, workload: Workload): Promise<void> {
  for (let count = 1; cluster.now_ms() < until_ms; count += 1) {
    const id = random.pick(cluster.ids);
    if (random.chance(0.75)) {
      const row_id = `${name}-${count}`;
      const outcome = await cluster.write(id, insertOf(row_id, random.integer(0, 1000)));
      if (typeof outcome === 'object' && outcome.ok) {
        workload.acknowledged.add(row_id);
        if (cluster.member(id).status()?.role !== 'master') workload.forwarded_ok += 1;
      } else if (typeof outcome === 'object' && outcome.error instanceof DdbError && outcome.error.code === 'ROW_EXISTS') {
        throw new InvariantViolation(`exactly once: the fresh row ${row_id} written through node ${id} was already there: a write was applied twice`);
      }
    } else if ((await cluster.strongRead(id)) === 'served') {
      workload.strong_reads += 1;
    }
    await cluster.sleep(random.integer(0, 20));
  }
}

async function runNemesis(cluster: NodeSimCluster, random: Random, until_ms: number, timings: NodeTimings): Promise<void> {
  while (cluster.now_ms() < until_ms) {
    await cluster.sleep(random.integer(1, 2 * timings.failover_timeout_ms));
    if (cluster.now_ms() < until_ms) injectFault(cluster, random, timings.heartbeat_ms);
  }
}

/** Drives simulated time until `promise` settles or `bound_ms` passes. */
async function runWhile<T>(cluster: NodeSimCluster, promise: Promise<T>, bound_ms: number, what: string): Promise<T> {
  let settled = false;
  let failure: unknown = null;
  let value: T | undefined;
  promise.then(
    (result) => {
      settled = true;
      value = result;
    },
    (error: unknown) => {
      settled = true;
      failure = error;
    },
  );
  const deadline_ms = cluster.now_ms() + bound_ms;
  while (!settled) {
    if (cluster.now_ms() > deadline_ms) throw new LivenessFailure(`${what}: not done within ${bound_ms} ms`);
    await cluster.run(10);
  }
  if (failure !== null) throw failure;
  return value as T;
}

async function awaitStableMaster(cluster: NodeSimCluster, timings: NodeTimings, bound_ms: number): Promise<SimMember> {
  const deadline_ms = cluster.now_ms() + bound_ms;
  const stable_ms = timings.failover_timeout_ms + timings.heartbeat_ms;
  for (;;) {
    if (cluster.now_ms() > deadline_ms) throw new LivenessFailure(`no master stayed in charge for ${stable_ms} ms within ${bound_ms} ms`);
    const master = cluster.agreedMaster();
    if (master === null) {
      await cluster.run(5);
      continue;
    }
    const term = master.status()?.term;
    const since_ms = cluster.now_ms();
    while (cluster.now_ms() - since_ms < stable_ms && cluster.agreedMaster() === master && master.status()?.term === term) await cluster.run(5);
    if (cluster.now_ms() - since_ms >= stable_ms) return master;
  }
}

/** Every acknowledged write is on every running node, and their databases are the same bytes. */
function checkConverged(cluster: NodeSimCluster, workload: Workload): void {
  const running = cluster.members.filter((member) => member.node !== null);
  for (const member of running) {
    const node = member.node as NonNullable<SimMember['node']>;
    for (const row_id of workload.acknowledged) {
      if (node.engine.getRow(null, TABLE, row_id) === null) throw new InvariantViolation(`durability: acknowledged row ${row_id} is missing on node ${member.id}`);
    }
  }
  const images = running.map((member) => Buffer.from((member.node as NonNullable<SimMember['node']>).engine.serializeDatabase(null)).toString('base64'));
  if (new Set(images).size > 1) throw new InvariantViolation(`divergence: the running nodes ${running.map((member) => member.id)} hold different databases`);
}

async function createTable(cluster: NodeSimCluster, bound_ms: number): Promise<void> {
  const deadline_ms = cluster.now_ms() + bound_ms;
  for (;;) {
    const master = cluster.agreedMaster();
    if (master?.node != null) {
      const created = await runWhile(cluster, master.node.writeAsMaster({ type: 'create_table', db_name: null, table_name: TABLE, columns: ['v'] }).then(() => true, () => false), bound_ms, 'create the table');
      if (created) return;
    }
    if (cluster.now_ms() > deadline_ms) throw new LivenessFailure('the table could not be created');
    await cluster.run(10);
  }
}

/** The cluster a seed draws, before anything runs. */
export function clusterOf(random: Random, options: { node_counts?: number[]; check_content?: boolean } = {}): { cluster: NodeSimCluster; timings: NodeTimings; links: LinkFaults } {
  const node_count = random.pick(options.node_counts ?? [1, 3, 3, 3, 5]);
  const timings = randomTimings(random);
  const limits = randomLimits(random);
  const links = randomLinks(random, timings.heartbeat_ms);
  // Calm links until the table exists; the faults (these links among them) start after.
  const cluster = new Cluster({ random: random.fork(), node_count, timings, limits, links: CALM_LINKS, crash_in_sync_probability: 0, check_content: options.check_content });
  cluster.trace(`${node_count} nodes, ${JSON.stringify(timings)}, ${JSON.stringify(limits)}, links at the faults ${JSON.stringify(links)}`);
  return { cluster, timings, links };
}

export async function runNodeFaultScenario(seed: number): Promise<NodeRunSummary> {
  const random = new Random(seed);
  const { cluster, timings, links } = clusterOf(random);
  try {
    return await runFaultsThenRecover(cluster, random, timings, { links, crash_in_sync_probability: random.pick([0, 0.002, 0.01]) });
  } catch (error) {
    throw withReplay(error, seed, cluster);
  }
}

interface Faults {
  links: LinkFaults;
  crash_in_sync_probability: number;
}

async function runFaultsThenRecover(cluster: NodeSimCluster, random: Random, timings: NodeTimings, faults: Faults): Promise<NodeRunSummary> {
  const bound_ms = 40 * timings.failover_timeout_ms;
  await createTable(cluster, bound_ms);
  // Faults start once the table exists: before, nothing would restart a node that crashed in an fsync, and
  // links whose round trip outlasts a campaign's back-off (a heartbeat or two) elect no master.
  cluster.links.faults = faults.links;
  cluster.crash_in_sync_probability = faults.crash_in_sync_probability;
  const workload: Workload = { acknowledged: new Set(), strong_reads: 0, forwarded_ok: 0 };
  const until_ms = cluster.now_ms() + random.integer(100, 300) * timings.heartbeat_ms;
  const clients = Array.from({ length: random.integer(1, 6) }, (_unused, index) => runClient(cluster, random.fork(), `c${index}`, until_ms, workload));
  const work = Promise.all([...clients, runNemesis(cluster, random.fork(), until_ms, timings)]);
  await runWhile(cluster, work, until_ms - cluster.now_ms() + 4 * timings.write_timeout_ms + bound_ms, 'the clients');
  // Faults stop; a majority is up and connected (a minority may stay down).
  const node_count = cluster.members.length;
  const down = random.shuffle([...cluster.ids]).slice(0, random.integer(0, node_count - majoritySize(node_count)));
  cluster.links.heal();
  cluster.links.faults = { drop_probability: 0, duplicate_probability: 0, delay_min_ms: 1, delay_max_ms: Math.max(1, Math.floor(timings.heartbeat_ms / 2)) };
  cluster.crash_in_sync_probability = 0;
  for (const member of cluster.members) {
    cluster.resume(member.id);
    if (down.includes(member.id)) cluster.crash(member.id, '(stays down)');
    else cluster.restart(member.id);
  }
  cluster.trace(`faults stop; down: ${down}`);
  const master = await awaitStableMaster(cluster, timings, bound_ms);
  // Writes now need a majority, which may include a node that was paused or cut off for long: let it catch
  // up first, at the pace the limits allow, which can outlast a write's timeout.
  const master_last_index = (master.status() as ReplicaStatus).last_index;
  await awaitApplied(cluster, bound_ms + catchUpMs(cluster, master_last_index), master_last_index);
  const final = Array.from({ length: 3 }, (_unused, index) => cluster.write(master.id, insertOf(`final-${index}`, index)));
  for (const outcome of await runWhile(cluster, Promise.all(final), bound_ms, 'writes to the stable master')) {
    if (typeof outcome !== 'object' || !outcome.ok) throw new LivenessFailure(`a write to the stable master ${master.id} failed: ${JSON.stringify(outcome)}`);
  }
  for (let index = 0; index < 3; index += 1) workload.acknowledged.add(`final-${index}`);
  await awaitApplied(cluster, bound_ms);
  checkConverged(cluster, workload);
  return {
    node_count,
    simulated_ms: cluster.now_ms(),
    events: cluster.scheduler.events_run,
    masters_elected: cluster.checker.masters_elected,
    committed: cluster.checker.committedCount(),
    acknowledged_writes: workload.acknowledged.size,
    strong_reads: workload.strong_reads,
    forwarded_ok: workload.forwarded_ok,
    counts: cluster.counts,
  };
}

/**
 * Milliseconds the slowest running node needs to apply up to `last_index` at the pace the limits allow:
 * inflight_appends_max appends of entries_per_append_max entries per round trip (two link delays and
 * two fsyncs), one round trip more for a snapshot. With a window of one append of one entry, a node 100
 * entries behind needs 100 round trips.
 */
function catchUpMs(cluster: NodeSimCluster, last_index: number): number {
  const applied = cluster.members.filter((member) => member.node !== null).map((member) => (member.node as NonNullable<SimMember['node']>).applied.applied_index);
  const behind = Math.max(0, ...applied.map((index) => last_index - index));
  const { entries_per_append_max, inflight_appends_max } = cluster.limits;
  const round_trips = Math.ceil(behind / (entries_per_append_max * inflight_appends_max)) + 1;
  return round_trips * 2 * (cluster.links.faults.delay_max_ms + DISK_LATENCY_MAX_MS);
}

/** Every running node has applied everything committed (or up to `last`). */
async function awaitApplied(cluster: NodeSimCluster, bound_ms: number, last = cluster.checker.committedCount()): Promise<void> {
  const deadline_ms = cluster.now_ms() + bound_ms;
  while (!cluster.members.every((member) => member.node === null || member.node.applied.applied_index >= last)) {
    if (cluster.now_ms() > deadline_ms) throw new LivenessFailure(`not every running node applied up to ${last} within ${bound_ms} ms`);
    await cluster.run(5);
  }
}

function withReplay(error: unknown, seed: number, cluster: NodeSimCluster): Error {
  const original = error instanceof Error ? error : new Error(String(error));
  const wrapped = new Error(
    `${original.name}: ${original.message}\n` +
      `  node scenario, seed ${seed}, at ${cluster.now_ms()} ms\n` +
      `  replay: SEED=${seed} npx jest test/sim/node-simulation\n\n` +
      `${cluster.describe()}\n\nrecent events:\n${cluster.recentTrace()}\n\n${original.stack ?? ''}`,
  );
  wrapped.name = original.name;
  return wrapped;
}

export interface DiskLossSummary {
  node_count: number;
  lost: number;
  caught_up_ms: number;
}

/**
 * The start the calm scenarios share: the table, then 1–4 clients writing
 * until a drawn time, and the cluster run for a drawn part of it.
 */
async function startCalmClients(cluster: NodeSimCluster, random: Random, timings: NodeTimings): Promise<{ bound_ms: number; workload: Workload; until_ms: number; work: Promise<void[]> }> {
  const bound_ms = 40 * timings.failover_timeout_ms;
  await createTable(cluster, bound_ms);
  const workload: Workload = { acknowledged: new Set(), strong_reads: 0, forwarded_ok: 0 };
  const until_ms = cluster.now_ms() + random.integer(40, 120) * timings.heartbeat_ms;
  const clients = Array.from({ length: random.integer(1, 4) }, (_unused, index) => runClient(cluster, random.fork(), `c${index}`, until_ms, workload));
  const work = Promise.all(clients);
  await cluster.run(random.integer(0, until_ms - cluster.now_ms()));
  return { bound_ms, workload, until_ms, work };
}

/**
 * A slave loses its disk (restarted with `--in-memory`, or its data directory
 * deleted) while the rest of the cluster is healthy and takes writes: it must
 * catch up from the master, by log or by snapshot, and hold every
 * acknowledged write. Only one node loses its disk, and no other fault
 * strikes: a majority of lost disks can lose acknowledged writes, which is
 * what `--in-memory` means.
 */
export async function runDiskLossScenario(seed: number): Promise<DiskLossSummary> {
  const random = new Random(seed);
  const { cluster, timings } = clusterOf(random);
  try {
    const { bound_ms, workload, until_ms, work } = await startCalmClients(cluster, random, timings);
    const master = cluster.agreedMaster();
    const slaves = cluster.ids.filter((id) => id !== master?.id);
    const lost = slaves.length === 0 ? null : random.pick(slaves);
    if (lost !== null) cluster.wipeAndRestart(lost);
    await runWhile(cluster, work, until_ms - cluster.now_ms() + 4 * timings.write_timeout_ms + bound_ms, 'the clients');
    const lost_at_ms = cluster.now_ms();
    await awaitStableMaster(cluster, timings, bound_ms);
    await awaitApplied(cluster, bound_ms);
    checkConverged(cluster, workload);
    return { node_count: cluster.members.length, lost: lost ?? 0, caught_up_ms: cluster.now_ms() - lost_at_ms };
  } catch (error) {
    throw withReplay(error, seed, cluster);
  }
}

export interface DivergenceSummary {
  node_count: number;
  corrupted: number;
  repaired_ms: number;
}

/** Changes to a slave's data behind the log's back, each as a divergence might really come about. */
const CORRUPTIONS = [
  `UPDATE ${TABLE} SET v = v + 1`, // a row changed (a setting a statement slipped past the sandbox)
  `DELETE FROM ${TABLE} WHERE rowid IN (SELECT rowid FROM ${TABLE} LIMIT 1)`, // a row lost (a write refused on this node only)
  `INSERT INTO ${TABLE} (row_id, v) VALUES ('stray', 0)`, // a row only this node has (a constraint not checked here)
];

/**
 * A slave's data is changed behind the log's back while clients write: it
 * must find out (its content hash differs from the master's at the same
 * index), say so, and repair itself from the master's image, ending with
 * the master's bytes and every acknowledged write. No other fault strikes.
 */
export async function runDivergenceScenario(seed: number): Promise<DivergenceSummary> {
  const random = new Random(seed);
  const { cluster, timings } = clusterOf(random, { node_counts: [3, 3, 5], check_content: false });
  try {
    const { bound_ms, workload, until_ms, work } = await startCalmClients(cluster, random, timings);
    const master = await awaitStableMaster(cluster, timings, bound_ms);
    const corrupted = random.pick(cluster.ids.filter((id) => id !== master.id));
    const node = cluster.member(corrupted).node as NonNullable<SimMember['node']>;
    const corruption = random.pick(CORRUPTIONS);
    node.engine.apply({ type: 'sql', db_name: null, script: corruption }, { timestamp_ms: 0, seed: 0 });
    cluster.trace(`node ${corrupted}'s data changed behind the log: ${corruption}`);
    const corrupted_at_ms = cluster.now_ms();
    await runWhile(cluster, work, until_ms - cluster.now_ms() + 4 * timings.write_timeout_ms + bound_ms, 'the clients');
    // Writes go on until the slave has repaired itself: it finds out at an entry whose effect, or the data's hash, differs.
    const deadline_ms = cluster.now_ms() + 2 * bound_ms + 30_000;
    for (let count = 0; !repairedOnce(cluster, corrupted); count += 1) {
      if (cluster.now_ms() > deadline_ms) throw new LivenessFailure(`node ${corrupted} was not repaired within ${deadline_ms - corrupted_at_ms} ms: ${JSON.stringify(cluster.member(corrupted).node?.status().content_check)}`);
      const current = await awaitStableMaster(cluster, timings, bound_ms);
      const outcome = await runWhile(cluster, cluster.write(current.id, insertOf(`after-${count}`, count)), bound_ms, 'a write after the corruption');
      if (typeof outcome === 'object' && outcome.ok) workload.acknowledged.add(`after-${count}`);
      await cluster.run(50);
    }
    const repaired_ms = cluster.now_ms() - corrupted_at_ms;
    await awaitApplied(cluster, bound_ms);
    checkConverged(cluster, workload);
    const statuses = cluster.members.map((member) => member.node?.status()).filter((status) => status !== undefined);
    const by_index = new Map<number, Set<string>>();
    for (const status of statuses) by_index.set(status.applied_index, (by_index.get(status.applied_index) ?? new Set()).add(status.content_hash));
    for (const [index, hashes] of by_index) {
      if (hashes.size > 1) throw new InvariantViolation(`divergence: nodes at applied index ${index} have different content hashes after the repair`);
    }
    return { node_count: cluster.members.length, corrupted, repaired_ms };
  } catch (error) {
    throw withReplay(error, seed, cluster);
  }
}

function repairedOnce(cluster: NodeSimCluster, id: number): boolean {
  const check = cluster.member(id).node?.status().content_check;
  return check !== undefined && check.repairs > 0 && check.diverged_index === null;
}
