/**
 * Divergence cannot hide, against real processes. A slave started with a
 * smaller value_size_max_bytes than the master refuses a write the master
 * applied: the same log, different data, which the entry chain (state_hash)
 * cannot see. Its content hash differs from the master's at the same index:
 * it says so in its log and /status, and repairs itself from the master's
 * image, ending with the master's rows and hashes.
 */
import fs from 'node:fs';
import { TestCluster } from '../support/cluster';
import { pollUntil } from '../support/poll';

jest.setTimeout(90_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.destroy();
});

async function query(id: number, sql: string): Promise<{ status: number; data: { rows?: unknown[][]; error?: { code: string } } }> {
  const response = await cluster.client.post(`${cluster.url(id)}/query`, { query: sql }, { maxRedirects: 5 });
  return { status: response.status, data: response.data };
}

it('a slave whose limits differ from the master says its data differs and repairs itself from the master', async () => {
  // Every node has a config file of its own, so one can be changed.
  cluster = await TestCluster.create({ size: 3, config_of: () => ({}) });
  await cluster.startAll();
  const master = await cluster.waitForMaster();
  const odd = cluster.ids().find((id) => id !== master) as number;
  expect((await query(master, 'CREATE TABLE t (n INTEGER PRIMARY KEY, b BLOB)')).status).toBe(200);

  await cluster.signal(odd, 'SIGTERM');
  const file = cluster.configFile(odd);
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), value_size_max_bytes: 2048 }));
  cluster.start(odd);
  await cluster.waitForConvergence(cluster.ids());

  // Allowed on the master (1 MiB); VALUE_TOO_LARGE on the odd slave when it applies the entry.
  expect((await query(master, 'INSERT INTO t VALUES (1, zeroblob(5000))')).status).toBe(200);

  const repaired = await pollUntil(
    async () => {
      const status = await cluster.status(odd);
      return status !== null && status.content_check.repairs >= 1 && status.content_check.diverged_index === null ? status : null;
    },
    { timeout_ms: 30_000, what: `node ${odd} to find its data differs and repair it` },
  );
  expect(repaired.content_check.divergences).toBeGreaterThanOrEqual(1);
  expect(fs.readFileSync(cluster.logFile(odd), 'utf8')).toMatch(/DIVERGED: this node's data differs from the master's/);
  expect(fs.readFileSync(cluster.logFile(master), 'utf8')).toMatch(new RegExp(`node ${odd}'s data differs from this master's`));

  const converged = await cluster.waitForConvergence(cluster.ids());
  expect(new Set(converged.map((status) => status.content_hash)).size).toBe(1);
  for (const id of cluster.ids()) expect((await query(id, 'SELECT n, length(b) FROM t')).data.rows).toEqual([[1, 5000]]);
  // The other slave never differed.
  const other = cluster.ids().find((id) => id !== master && id !== odd) as number;
  expect((await cluster.status(other))?.content_check).toMatchObject({ divergences: 0, repairs: 0 });
  expect((await cluster.status(other))?.content_check.checked_index).toBeGreaterThan(0);
});
