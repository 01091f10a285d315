/**
 * One chaos run: a real cluster (each node on its own loopback address),
 * concurrent clients recording a history, the nemesis injecting faults; then
 * heal everything, wait for convergence, and judge: linearizability of the
 * registers, no acknowledged insert lost on any node, identical state on all.
 */
import { TestCluster } from '../support/cluster';
import { Firewall, type Endpoint } from './firewall';
import { HistoryRecorder } from './history';
import { checkLinearizable, formatLinearizability, type LinearizabilityResult } from './linearizability';
import { planFaultSchedule, type FaultKind, type FaultStep } from './fault-schedule';
import { Nemesis, sleep } from './nemesis';
import { deriveChaosStreams } from './random-streams';
import { checkSet, format as formatSetCheck, type SetCheckReport } from './set-check';
import { REGISTER_TABLE, SET_TABLE, Workload } from './workload';

export interface ChaosOptions {
  time_s: number;
  seed: number;
  nodes: number;
  clients: number;
  keys: number;
  faults: FaultKind[];
  log: (line: string) => void;
}

export interface ChaosSummary {
  seed: number;
  operations: number;
  operations_by_kind: Workload['counts']['by_kind'];
  faults: Record<string, number>;
  acknowledged_inserts: number;
  lost_writes: number;
  linearizability: LinearizabilityResult;
  set_check: SetCheckReport;
  report: string;
}

/** How long each fault lasts, and the quiet time before each. */
const FAULT_MS = 2500;
const QUIET_MS = 1500;

const schedule_node_ids = (nodes: number) => Array.from({ length: nodes }, (_unused, index) => index + 1);

/**
 * The nemesis's schedule for these options: a function of the seed, the fault kinds, the node
 * count and the run time only, so it can be printed before (or without) a run.
 */
export function chaosSchedule(options: Pick<ChaosOptions, 'seed' | 'clients' | 'nodes' | 'faults' | 'time_s'>): FaultStep[] {
  const plan = { kinds: options.faults, node_ids: schedule_node_ids(options.nodes), run_ms: options.time_s * 1000, fault_ms: FAULT_MS, quiet_ms: QUIET_MS };
  return planFaultSchedule(deriveChaosStreams(options.seed, options.clients).nemesis, plan);
}

const needsFirewall = (faults: FaultKind[]) => faults.some((kind) => kind === 'partition' || kind === 'isolate-master' || kind === 'asymmetric');

async function setUp(cluster: TestCluster, keys: string[]): Promise<void> {
  const master = await cluster.waitForMaster(cluster.ids(), 30_000);
  const post = (path: string, body: unknown) => cluster.client.post(`${cluster.url(master)}${path}`, body);
  for (const table of [REGISTER_TABLE, SET_TABLE]) {
    const response = await post('/create_table', { table_name: table, columns: ['v'] });
    if (response.status !== 201) throw new Error(`create_table ${table}: ${response.status}`);
  }
  for (const key of keys) {
    const response = await post('/insert', { table_name: REGISTER_TABLE, row_id: key, data: { v: 'init' } });
    if (response.status !== 201) throw new Error(`insert ${key}: ${response.status}`);
  }
}

async function finalState(cluster: TestCluster) {
  await cluster.waitForMaster(cluster.ids(), 60_000);
  const statuses = await cluster.waitForConvergence(cluster.ids(), 60_000);
  const rows = new Map<number, Map<string, unknown>>();
  for (const id of cluster.ids()) {
    const response = await cluster.client.get(`${cluster.url(id)}/select?table=${SET_TABLE}`);
    rows.set(id, new Map((response.data.rows as { row_id: string; v: unknown }[]).map((row) => [row.row_id, row.v])));
  }
  return { statuses, rows };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const streams = deriveChaosStreams(options.seed, options.clients);
  const schedule = chaosSchedule(options);
  const hostOf = (id: number) => (needsFirewall(options.faults) ? `127.0.0.${10 + id}` : '127.0.0.1');
  const cluster = await TestCluster.create({ size: options.nodes, heartbeat_ms: 50, failover_timeout_ms: 500, election_stagger_ms: 150, write_timeout_ms: 2000, host_of: hostOf });
  const endpoints = new Map<number, Endpoint>(cluster.ids().map((id) => [id, { id, host: hostOf(id), port: Number(new URL(cluster.url(id)).port) }]));
  const firewall = needsFirewall(options.faults) ? new Firewall(endpoints) : null;
  try {
    // The schedule was planned for node ids 1..nodes, before the cluster existed.
    if (cluster.ids().join(',') !== schedule_node_ids(options.nodes).join(',')) throw new Error(`chaos: the cluster's node ids are ${cluster.ids().join(',')}`);
    firewall?.install();
    await cluster.startAll();
    const keys = Array.from({ length: options.keys }, (_unused, i) => `k${i}`);
    await setUp(cluster, keys);
    const history = new HistoryRecorder();
    const workload = new Workload(cluster, history, keys);
    const nemesis = new Nemesis({ cluster, firewall, schedule, log: options.log });
    const clients = streams.clients.map((random, process) => workload.runClient(process, random));
    const started_ms = performance.now();
    const until_ms = started_ms + options.time_s * 1000;
    await nemesis.run(started_ms);
    await sleep(Math.max(0, until_ms - performance.now()));
    workload.stop();
    await Promise.all(clients);
    await nemesis.healAll();
    options.log('healed; waiting for the cluster to converge');
    const { statuses, rows } = await finalState(cluster);

    const linearizability = checkLinearizable(history.operations(), {
      initial_values: new Map(keys.map((key) => [key, 'init'])),
      // ddb decides ROW_NOT_FOUND when it applies the committed entry, so a failed update did see an absent row.
      observe_failed_preconditions: true,
    });
    const set_check = checkSet({
      acknowledged_inserts: workload.counts.acknowledged_inserts,
      deleted_keys: [],
      final_rows_per_node: rows,
      // Both chains: the entries (state_hash) and what they did (content_hash), so data that diverged under the same log counts too.
      state_hash_per_node: new Map(statuses.map((status) => [status.id, { applied_index: status.applied_index, state_hash: `${status.state_hash}/${status.content_hash}` }])),
    });
    const operations = Object.values(workload.counts.by_kind).reduce((sum, count) => sum + count.ok + count.fail + count.info, 0);
    return {
      seed: options.seed,
      operations,
      operations_by_kind: workload.counts.by_kind,
      faults: Object.fromEntries(options.faults.map((kind) => [kind, nemesis.injected.get(kind) ?? 0])),
      acknowledged_inserts: workload.counts.acknowledged_inserts.size,
      lost_writes: set_check.lost_writes.length,
      linearizability,
      set_check,
      report: `${formatLinearizability(linearizability)}\n${formatSetCheck(set_check)}`,
    };
  } finally {
    firewall?.remove();
    await cluster.destroy();
  }
}
