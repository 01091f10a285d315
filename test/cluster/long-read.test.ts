/**
 * A 30 s read on the master under write load, against real processes. A
 * finite 6 s read on the master used to cause a fail-over; now reads run in
 * executor processes, so the master's thread, its heartbeats and its writes
 * go on. The writes mix REST inserts and SQL inserts (whose trial runs in an
 * executor of its own, never behind a read), through the master and through
 * a slave; a short SQL read meanwhile goes to the master's other reader.
 */
import { TestCluster } from '../support/cluster';

jest.setTimeout(120_000);

const READ_MS = 30_000;
const LONG_READ = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
const WRITES_MAX = 20_000;

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.destroy();
});

it('runs a 30 s read on the master while writes go on: no fail-over, every write acknowledged', async () => {
  cluster = await TestCluster.create({ size: 3, statement_timeout_ms: READ_MS });
  await cluster.startAll();
  const master = await cluster.waitForMaster();
  const slave = cluster.ids().find((id) => id !== master) as number;
  const post = (id: number, path: string, body: unknown, timeout = 10_000) => cluster.client.post(`${cluster.url(id)}${path}`, body, { maxRedirects: 5, timeout });
  expect((await post(master, '/create_table', { table_name: 'rest', columns: ['n'] })).status).toBe(201);
  expect((await post(master, '/query', { query: 'CREATE TABLE sql (n INTEGER PRIMARY KEY)' })).status).toBe(200);
  await cluster.waitForConvergence(cluster.ids());
  const term = (await cluster.status(master))?.term;

  const started_ms = Date.now();
  const long_read = post(master, '/query', { query: LONG_READ }, READ_MS + 20_000);
  const latencies_ms: number[] = [];
  const failures: string[] = [];
  let short_reads = 0;
  let rest = 0;
  let sql = 0;
  let done = false;
  long_read.finally(() => {
    done = true;
  });
  for (let count = 0; !done && count < WRITES_MAX && Date.now() - started_ms < READ_MS + 15_000; count += 1) {
    const through = count % 2 === 0 ? master : slave;
    const begun = performance.now();
    const response =
      count % 4 < 2
        ? await post(through, '/insert', { table_name: 'rest', row_id: `r${count}`, data: { n: count } })
        : await post(through, '/query', { query: `INSERT INTO sql (n) VALUES (${count})` });
    latencies_ms.push(performance.now() - begun);
    if (response.status !== 200 && response.status !== 201) failures.push(`${count}: ${response.status} ${JSON.stringify(response.data)}`);
    else if (count % 4 < 2) rest += 1;
    else sql += 1;
    if (count % 50 === 0) {
      const read = await post(master, '/query', { query: 'SELECT count(*) FROM sql' });
      if (read.status === 200) short_reads += 1;
      else failures.push(`short read: ${read.status} ${JSON.stringify(read.data)}`);
    }
  }
  const answer = await long_read;
  const read_ms = Date.now() - started_ms;

  expect(answer.status).toBe(408);
  expect(answer.data.error.code).toBe('QUERY_TIMEOUT');
  expect(read_ms).toBeGreaterThanOrEqual(READ_MS);
  expect(failures).toEqual([]);
  expect(short_reads).toBeGreaterThan(0);
  for (const id of cluster.ids()) expect(await cluster.status(id)).toMatchObject({ term, master_id: master });
  const converged = await cluster.waitForConvergence(cluster.ids());
  expect(new Set(converged.map((status) => status.term))).toEqual(new Set([term]));
  for (const id of cluster.ids()) {
    const local = await cluster.client.get(`${cluster.url(id)}/select`, { params: { table: 'rest' } });
    expect(local.data.count).toBe(rest);
    expect((await post(id, '/query', { query: 'SELECT count(*) FROM sql' })).data.rows).toEqual([[sql]]);
  }

  latencies_ms.sort((a, b) => a - b);
  const at = (fraction: number) => latencies_ms[Math.min(latencies_ms.length - 1, Math.floor(fraction * latencies_ms.length))]?.toFixed(1);
  console.log(
    `a ${read_ms} ms read on the master; meanwhile ${latencies_ms.length} writes (${rest} REST, ${sql} SQL, half through a slave) ` +
      `and ${short_reads} short reads on the master: write latency p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms; term unchanged`,
  );
});
