/**
 * A poison entry in a log an older ddb wrote, against real processes. Before
 * writes were tried on the master, `INSERT … SELECT` over a recursive CTE that
 * never ends was committed as it came; every node that applied it hung, and
 * hung again on replay after a restart, until every data directory was
 * deleted. Here each node's data directory holds that log (written with the
 * node's own storage, entries without the `tried` mark), and the cluster of
 * this version starts on it: the poison entry is tried, refused the same way
 * on every node, the entries around it apply, and the cluster serves.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LogPayload } from '../../src/node/applied-state';
import type { Entry } from '../../src/replication/messages';
import { openStorage } from '../../src/replication/storage';
import { TestCluster } from '../support/cluster';
import { pollUntil } from '../support/poll';

jest.setTimeout(90_000);

const FOREVER = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';

function oldLog(): Entry<LogPayload>[] {
  const context = { timestamp_ms: 1_700_000_000_000, seed: 11 };
  const scripts = [
    'CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)',
    "INSERT INTO t VALUES ('before', 1)",
    `INSERT INTO t SELECT 'never', n FROM (${FOREVER.replace('count(*)', 'count(*) AS n')})`,
    "INSERT INTO t VALUES ('after', 2)",
  ];
  return scripts.map((script, offset) => ({ index: offset + 1, term: 1, data: { command: { type: 'sql', db_name: null, script }, context } }));
}

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.destroy();
});

async function query(id: number, sql: string): Promise<{ status: number; data: { rows?: unknown[][]; error?: { code: string } } }> {
  const response = await cluster.client.post(`${cluster.url(id)}/query`, { query: sql }, { maxRedirects: 5 });
  return { status: response.status, data: response.data };
}

it('a cluster whose logs hold an untried SQL write that never ends refuses it on every node and serves', async () => {
  // A short statement_timeout_ms, the budget an old log's SQL is tried within (twice, before it is refused).
  cluster = await TestCluster.create({ size: 3, statement_timeout_ms: 1000 });
  for (const id of cluster.ids()) {
    const dir = path.join(cluster.dir, 'data', `node-${id}`);
    fs.mkdirSync(dir, { recursive: true });
    const storage = openStorage<LogPayload>(dir);
    storage.save({ hard_state: { term: 1, vote: 1, commit: 4 }, entries: oldLog() });
    storage.close();
  }
  await cluster.startAll();
  const master = await cluster.waitForMaster();
  // Every node applied past the poison entry (the new master's first entry is at index 5) with the same data.
  await pollUntil(
    async () => {
      const statuses = await Promise.all(cluster.ids().map((id) => cluster.status(id)));
      return statuses.every((status) => status !== null && status.applied_index >= 5) ? true : null;
    },
    { timeout_ms: 30_000, interval_ms: 50, what: 'every node to apply past the old log' },
  );
  const statuses = await cluster.waitForConvergence(cluster.ids());
  expect(new Set(statuses.map((status) => status.content_hash)).size).toBe(1);
  for (const id of cluster.ids()) {
    expect(await query(id, 'SELECT id FROM t ORDER BY id')).toMatchObject({ status: 200, data: { rows: [['after'], ['before']] } });
    expect(fs.readFileSync(cluster.logFile(id), 'utf8')).toMatch(/refused a SQL write from an older log/);
    expect((await cluster.client.get(`${cluster.url(id)}/health`)).status).toBe(200);
  }
  // And it takes writes (tried now, on the master).
  expect((await query(master, "INSERT INTO t VALUES ('new', 3)")).status).toBe(200);
  await pollUntil(async () => ((await query(master, 'SELECT count(*) FROM t')).data.rows?.[0]?.[0] === 3 ? true : null), { timeout_ms: 10_000, interval_ms: 50, what: 'the new row' });
});
