/**
 * Statements that never end, against real processes. A recursive CTE with no
 * end, as a read, used to freeze the node (no /health, SIGTERM ignored); as
 * the SELECT of an INSERT it was committed and hung every node that applied
 * it, again after every restart. Now reads run in the node's SQL executor
 * process, which is killed at statement_timeout_ms, and a SQL write enters the
 * log only after a trial run there ended within its budget.
 */
import { TestCluster } from '../support/cluster';
import { pollUntil } from '../support/poll';
import { descendantsOf, isRunning } from '../support/processes';

jest.setTimeout(90_000);

const FOREVER = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
const FOREVER_WRITE = 'INSERT INTO t (n) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
const STATEMENT_TIMEOUT_MS = 1000;

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.destroy();
});

async function query(id: number, sql: string): Promise<{ status: number; data: { rows?: unknown[][]; error?: { code: string; message: string } } }> {
  const response = await cluster.client.post(`${cluster.url(id)}/query`, { query: sql }, { maxRedirects: 5 });
  return { status: response.status, data: response.data };
}

/** Polls until `pid` has ended (a zombie counts as ended). */
async function ended(pid: number, what: string): Promise<void> {
  await pollUntil(() => (isRunning(pid) ? null : true), { timeout_ms: 5000, what });
}

async function startCluster(): Promise<{ master: number; slave: number }> {
  cluster = await TestCluster.create({ size: 3, statement_timeout_ms: STATEMENT_TIMEOUT_MS });
  await cluster.startAll();
  const master = await cluster.waitForMaster();
  const slave = cluster.ids().find((id) => id !== master) as number;
  expect((await query(master, 'CREATE TABLE t (n INTEGER)')).status).toBe(200);
  expect((await query(slave, 'INSERT INTO t (n) VALUES (1), (2), (3)')).status).toBe(200);
  await cluster.waitForConvergence(cluster.ids());
  return { master, slave };
}

it('stops a read that never ends, on a slave and on the master, while the node keeps serving and no fail-over happens', async () => {
  const { master, slave } = await startCluster();
  const term = (await cluster.status(master))?.term;

  for (const id of [slave, master]) {
    const started = Date.now();
    const pending = query(id, FOREVER);
    // While it runs, the node answers.
    await pollUntil(async () => (await cluster.client.get(`${cluster.url(id)}/health`)).status === 200, { timeout_ms: 5000, what: `node ${id}'s /health during the read` });
    const answer = await pending;
    expect(answer.status).toBe(408);
    expect(answer.data.error?.code).toBe('QUERY_TIMEOUT');
    expect(answer.data.error?.message).toMatch(/longer than 1000 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS);
    // The next read runs in a new executor, and sees the data.
    const after = await query(id, 'SELECT count(*) FROM t');
    expect(after).toEqual({ status: 200, data: { columns: ['count(*)'], rows: [[3]] } });
  }
  const status = await cluster.status(master);
  expect(status?.role).toBe('master');
  expect(status?.term).toBe(term);
});

it('refuses a write that never ends before it is logged: nothing is committed, and the cluster keeps writing', async () => {
  const { master, slave } = await startCluster();
  const before = await cluster.waitForConvergence(cluster.ids());

  for (const id of [slave, master]) {
    const answer = await query(id, FOREVER_WRITE);
    expect(answer.status).toBe(408);
    expect(answer.data.error?.code).toBe('QUERY_TIMEOUT');
    expect(answer.data.error?.message).toMatch(/trial run/);
  }
  for (const id of cluster.ids()) {
    const status = await cluster.status(id);
    expect(status?.commit_index).toBe(before[0].commit_index);
  }
  expect((await query(slave, 'INSERT INTO t (n) VALUES (4)')).status).toBe(200);
  const after = await cluster.waitForConvergence(cluster.ids());
  expect(after[0].commit_index).toBe(before[0].commit_index + 1);
  for (const id of cluster.ids()) expect((await query(id, 'SELECT count(*) FROM t')).data.rows).toEqual([[4]]);
});

it('ends on SIGTERM during a read that never ends, and its executor goes with it', async () => {
  const { slave } = await startCluster();
  const node = cluster.processes.get(slave);
  const pid = node?.pid as number;
  const pending = query(slave, FOREVER).catch(() => null);
  const executor = await pollUntil(() => descendantsOf(pid).find(isRunning) ?? null, { timeout_ms: 5000, what: 'the SQL executor to start' });
  const exited = new Promise<number | null>((resolve) => node?.once('exit', (code) => resolve(code)));
  process.kill(pid, 'SIGTERM');
  expect(await exited).toBe(0);
  await pending;
  await ended(executor, 'the executor to end with its node');
});

it('leaves no executor behind when its node is killed', async () => {
  const { slave } = await startCluster();
  const pid = cluster.processes.get(slave)?.pid as number;
  expect((await query(slave, 'SELECT count(*) FROM t')).status).toBe(200);
  const [executor] = descendantsOf(pid).filter(isRunning);
  expect(executor).toBeGreaterThan(0);
  await cluster.signal(slave, 'SIGKILL');
  await ended(executor as number, 'the executor to end after its node was killed');
});
