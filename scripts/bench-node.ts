/**
 * npm run bench:node — autocannon (50 connections, 10 s each) against one ddb
 * node (a cluster of one, persistence on, log level warn) for /insert, /select
 * of a 10-row table and /search, and against a bare express endpoint in the
 * same kind of process as the ceiling. Prints requests/s and p50/p99.
 */
import { TestCluster } from '../test/support/cluster';
import { formatResult, load, startBareExpress, type BenchResult } from './bench-support';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);

async function main(): Promise<void> {
  process.env.DDB_TEST_LOG_LEVEL = 'warn';
  const cluster = await TestCluster.create({ size: 1 });
  const ceiling = await startBareExpress();
  try {
    await cluster.startAll();
    await cluster.waitForMaster();
    const url = cluster.url(1);
    await cluster.client.post(`${url}/create_table`, { table_name: 'bench', columns: ['name', 'score'] });
    await cluster.client.post(`${url}/create_table`, { table_name: 'ten', columns: ['name', 'score'] });
    for (let i = 0; i < 10; i += 1) await cluster.client.post(`${url}/insert`, { table_name: 'ten', row_id: `r${i}`, data: { name: `n${i}`, score: i } });

    let sequence = 0;
    const results: BenchResult[] = [];
    const run = async (name: string, path: string, body?: () => unknown) => {
      const result = await load({ name, url: `${path.startsWith('http') ? '' : url}${path}`, connections: CONNECTIONS, duration_s: DURATION_S, method: body ? 'POST' : 'GET', body });
      results.push(result);
      process.stdout.write(`${formatResult(result)}\n`);
    };
    process.stdout.write(`ddb bench:node — ${CONNECTIONS} connections, ${DURATION_S} s per endpoint\n`);
    await run('ceiling: bare express GET /ping', `${ceiling.url}/ping`);
    await run('POST /insert', '/insert', () => ({ table_name: 'bench', row_id: `k${(sequence += 1)}`, data: { name: 'x', score: sequence } }));
    await run('GET /select (10 rows)', '/select?table=ten');
    await run('GET /search', '/search?table=ten&column=name&value=n5');
    const ceilingRate = results[0].requests_per_s;
    for (const result of results.slice(1)) {
      process.stdout.write(`${result.name.padEnd(44)} ${((100 * result.requests_per_s) / ceilingRate).toFixed(0)} % of the ceiling\n`);
    }
  } finally {
    ceiling.child.kill('SIGKILL');
    await cluster.destroy();
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 1;
});
