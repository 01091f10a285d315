/**
 * A slave that lost its disk catches up from a snapshot larger than any one
 * peer frame may be. Sent whole, a snapshot of a few hundred megabytes became
 * one base64 JSON text past V8's string limit: the master died in the
 * encoding, and each master after it. Now it travels in parts
 * (src/replication/snapshot-stream.ts), with heartbeats between them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TestCluster } from '../support/cluster';
import { pollUntil } from '../support/poll';

jest.setTimeout(240_000);

/** Rows of 1 MB: the snapshot is about this many megabytes, over the ~103 MB frame limit of the default body limit. */
const ROWS = 160;
const ROWS_PER_STATEMENT = 10;

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.destroy();
});

/**
 * A write until it succeeds: with rows this large, applying and compacting hold a node's thread
 * long enough that elections happen meanwhile (noted in the README), so a write may meet 503 or
 * 307 and is sent again to whichever node answers; every write here is idempotent.
 */
async function write(query: string): Promise<void> {
  await pollUntil(
    async () => {
      for (const id of cluster.ids()) {
        const answer = await sql(id, query).catch(() => null);
        if (answer?.status === 200) return true;
      }
      return null;
    },
    { timeout_ms: 60_000, interval_ms: 200, what: `the write ${query.slice(0, 60)}` },
  );
}

async function sql(id: number, query: string): Promise<{ status: number; data: { rows?: unknown[][]; error?: unknown } }> {
  const response = await cluster.client.post(`${cluster.url(id)}/query`, { query }, { maxRedirects: 5, timeout: 60_000 });
  return { status: response.status, data: response.data };
}

it('catches up a slave with an empty disk from a snapshot of ~160 MB, sent in parts', async () => {
  cluster = await TestCluster.create({ size: 3, log_entries_max: 10, failover_timeout_ms: 1000, heartbeat_ms: 100 });
  await cluster.startAll();
  const master = await cluster.waitForMaster();
  const lagging = cluster.ids().find((id) => id !== master) as number;
  await cluster.signal(lagging, 'SIGKILL');

  await write('CREATE TABLE IF NOT EXISTS big (n INTEGER PRIMARY KEY, b BLOB)');
  for (let first = 0; first < ROWS; first += ROWS_PER_STATEMENT) {
    const last = first + ROWS_PER_STATEMENT - 1;
    const insert = `INSERT OR REPLACE INTO big WITH RECURSIVE c(x) AS (SELECT ${first} UNION ALL SELECT x + 1 FROM c WHERE x < ${last}) SELECT x, zeroblob(1000000) FROM c`;
    await write(insert);
  }
  // Enough entries after the rows for the master to compact them into a snapshot.
  for (let n = 0; n < 12; n += 1) await write(`INSERT OR REPLACE INTO big (n) VALUES (${ROWS + n})`);
  const live = cluster.ids().filter((id) => id !== lagging);
  await pollUntil(async () => {
    const statuses = await Promise.all(live.map((id) => cluster.status(id)));
    return statuses.every((status) => (status?.snapshot_index ?? 0) > ROWS / ROWS_PER_STATEMENT) ? true : null;
  }, { timeout_ms: 60_000, what: 'the live nodes to compact past the rows' });

  fs.rmSync(path.join(cluster.dir, 'data', `node-${lagging}`), { recursive: true, force: true });
  cluster.start(lagging);
  const converged = await cluster.waitForConvergence(cluster.ids(), 180_000);
  expect(new Set(converged.map((status) => status.state_hash)).size).toBe(1);
  expect((await sql(lagging, 'SELECT count(*), sum(length(b)) FROM big')).data.rows).toEqual([[ROWS + 12, ROWS * 1_000_000]]);
});
