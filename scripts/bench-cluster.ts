/**
 * npm run bench — a 3-node cluster on this machine, persistence on (fsync per
 * batch), logs at warn. Prints majority-acknowledged inserts/s and p50/p99 at 1
 * and at 50 clients, local and strong reads/s, the bare express ceiling, and
 * fail-over time (SIGKILL of the master → first acknowledged write) as the
 * median of 5 trials, with the default timings and with 50/250 ms.
 * `--memory` also inserts 1,000,000 small rows and prints each node's memory;
 * `--only=throughput,failover,memory` runs just those sections.
 */
import fs from 'node:fs';
import { TestCluster } from '../test/support/cluster';
import { pollUntil } from '../test/support/poll';
import { formatResult, load, startBareExpress } from './bench-support';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const FAILOVER_TRIALS = Number(process.env.BENCH_FAILOVER_TRIALS ?? 5);
const print = (line: string) => process.stdout.write(`${line}\n`);

async function throughput(): Promise<void> {
  const cluster = await TestCluster.create({ size: 3, heartbeat_ms: 100, failover_timeout_ms: 1000, election_stagger_ms: 300 });
  const ceiling = await startBareExpress();
  try {
    await cluster.startAll();
    const master = await cluster.waitForMaster();
    const url = cluster.url(master);
    const slave = cluster.url(master === 1 ? 2 : 1);
    await cluster.client.post(`${url}/create_table`, { table_name: 'bench', columns: ['name', 'score'] });
    // Reads go to their own 10-row table: /search scans, and `bench` grows by the inserts above.
    await cluster.client.post(`${url}/create_table`, { table_name: 'ten', columns: ['name', 'score'] });
    for (let i = 0; i < 10; i += 1) await cluster.client.post(`${url}/insert`, { table_name: 'ten', row_id: `seed${i}`, data: { name: `n${i}`, score: i } });
    let sequence = 0;
    const insertBody = () => ({ table_name: 'bench', row_id: `k${(sequence += 1)}`, data: { name: 'x', score: sequence } });
    print(`3 nodes, persistence on, ${DURATION_S} s per run`);
    print(formatResult(await load({ name: 'ceiling: bare express GET /ping (50 conn)', url: `${ceiling.url}/ping`, connections: 50, duration_s: DURATION_S })));
    print(formatResult(await load({ name: 'insert via master, 1 client', url: `${url}/insert`, method: 'POST', body: insertBody, connections: 1, duration_s: DURATION_S })));
    print(formatResult(await load({ name: 'insert via master, 50 clients', url: `${url}/insert`, method: 'POST', body: insertBody, connections: 50, duration_s: DURATION_S })));
    print(formatResult(await load({ name: 'insert via a slave, 50 clients', url: `${slave}/insert`, method: 'POST', body: insertBody, connections: 50, duration_s: DURATION_S })));
    const search = '/search?table=ten&column=name&value=n5';
    print(formatResult(await load({ name: 'local read (search) on a slave, 50 clients', url: `${slave}${search}`, connections: 50, duration_s: DURATION_S })));
    print(formatResult(await load({ name: 'strong read (search) on master, 50 clients', url: `${url}${search}&consistency=strong`, connections: 50, duration_s: DURATION_S })));
    print(formatResult(await load({ name: 'strong read (search) on a slave, 50 clients', url: `${slave}${search}&consistency=strong`, connections: 50, duration_s: DURATION_S })));
  } finally {
    ceiling.child.kill('SIGKILL');
    await cluster.destroy();
  }
}

/** SIGKILL the master, then time until a write through a survivor is acknowledged. */
async function failoverTrial(timings: { heartbeat_ms: number; failover_timeout_ms: number; election_stagger_ms: number }): Promise<number> {
  const cluster = await TestCluster.create({ size: 3, ...timings });
  try {
    await cluster.startAll();
    const master = await cluster.waitForMaster();
    await cluster.client.post(`${cluster.url(master)}/create_table`, { table_name: 't', columns: ['v'] });
    const survivor = cluster.ids().find((id) => id !== master) as number;
    await cluster.waitForConvergence(cluster.ids());
    const killedAt = performance.now();
    await cluster.signal(master, 'SIGKILL');
    let attempt = 0;
    await pollUntil(
      async () => {
        attempt += 1;
        const response = await cluster.client.post(`${cluster.url(survivor)}/insert`, { table_name: 't', row_id: `r${attempt}`, data: { v: 1 } }, { timeout: 5000 });
        return response.status === 201;
      },
      { timeout_ms: 30_000, interval_ms: 5, what: 'a write after fail-over' },
    );
    return performance.now() - killedAt;
  } finally {
    await cluster.destroy();
  }
}

async function failover(): Promise<void> {
  for (const timings of [
    { heartbeat_ms: 100, failover_timeout_ms: 1000, election_stagger_ms: 300 },
    { heartbeat_ms: 50, failover_timeout_ms: 250, election_stagger_ms: 75 },
  ]) {
    const trials: number[] = [];
    for (let i = 0; i < FAILOVER_TRIALS; i += 1) trials.push(await failoverTrial(timings));
    trials.sort((a, b) => a - b);
    const median = trials[Math.floor(trials.length / 2)];
    print(`fail-over (heartbeat ${timings.heartbeat_ms} ms, timeout ${timings.failover_timeout_ms} ms): median ${median.toFixed(0)} ms of [${trials.map((t) => t.toFixed(0)).join(', ')}]`);
  }
}

function printMemory(cluster: TestCluster, master: number, when: string): void {
  for (const id of cluster.ids()) {
    const status = fs.readFileSync(`/proc/${cluster.processes.get(id)?.pid}/status`, 'utf8');
    const field = (name: string) => Math.round(Number(/(\d+) kB/.exec(status.split('\n').find((line) => line.startsWith(name)) ?? '')?.[1]) / 1024);
    print(`${when}: node ${id}${id === master ? ' (master)' : ''}: resident ${field('VmRSS:')} MB, peak ${field('VmHWM:')} MB`);
  }
}

/** 1,000,000 small rows through the master (50 clients), then each node's resident memory, at once and after an idle spell. */
async function memory(): Promise<void> {
  const ROWS = 1_000_000;
  const IDLE_S = 15;
  const TIME_LIMIT_S = 40 * 60;
  const cluster = await TestCluster.create({ size: 3, heartbeat_ms: 100, failover_timeout_ms: 1000, election_stagger_ms: 300 });
  try {
    await cluster.startAll();
    const master = await cluster.waitForMaster();
    const url = cluster.url(master);
    await cluster.client.post(`${url}/create_table`, { table_name: 'm', columns: ['v'] });
    let sequence = 0;
    const body = () => ({ table_name: 'm', row_id: `r${(sequence += 1)}`, data: { v: sequence } });
    const result = await load({ name: `${ROWS} inserts via master, 50 clients`, url: `${url}/insert`, method: 'POST', body, connections: 50, amount: ROWS, duration_s: TIME_LIMIT_S });
    print(`${formatResult(result)}  (${result.requests} answered)`);
    await cluster.waitForConvergence(cluster.ids(), 300_000);
    printMemory(cluster, master, 'right after');
    // V8 gives back the heap it grew for the load once allocation has been low for a while.
    await new Promise((resolve) => setTimeout(resolve, IDLE_S * 1000));
    printMemory(cluster, master, `after ${IDLE_S} s idle`);
  } finally {
    await cluster.destroy();
  }
}

/** `--only throughput,failover,memory` picks sections; by default throughput and failover, plus memory with `--memory`. */
function sections(): string[] {
  const only = process.argv.find((argument) => argument.startsWith('--only='));
  if (only !== undefined) return only.slice('--only='.length).split(',');
  return ['throughput', 'failover', ...(process.argv.includes('--memory') ? ['memory'] : [])];
}

async function main(): Promise<void> {
  process.env.DDB_TEST_LOG_LEVEL = 'warn';
  const chosen = sections();
  if (chosen.includes('throughput')) await throughput();
  if (chosen.includes('failover')) await failover();
  if (chosen.includes('memory')) await memory();
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 1;
});
