/**
 * Real processes on loopback: the first master is node 1; SIGKILL of the master
 * under concurrent writes loses no acknowledged write; with equal logs each
 * fail-over promotes the lowest-id live slave; the old master rejoins as a
 * slave and catches up.
 */
import { TestCluster } from '../support/cluster';
import { pollUntil } from '../support/poll';
import { missing, newWriteLog, rowIdsOn, startWriters } from '../support/writers';

jest.setTimeout(90_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.destroy();
});

async function createTable(cluster: TestCluster, master: number): Promise<void> {
  const response = await cluster.client.post(`${cluster.url(master)}/create_table`, { table_name: 'items', columns: ['v'] });
  expect(response.status).toBe(201);
}

it('3 nodes: SIGKILL the master under writes, a slave takes over, node 1 rejoins and catches up', async () => {
  cluster = await TestCluster.create({ size: 3 });
  await cluster.startAll();
  expect(await cluster.waitForMaster()).toBe(1);
  await createTable(cluster, 1);

  const log = newWriteLog();
  let live = [1, 2, 3];
  const stop = startWriters(cluster, { table: 'items', clients: 8, node_ids: () => live, log });
  await pollUntil(() => log.acknowledged.size >= 100, { timeout_ms: 20_000, what: '100 acknowledged writes' });

  await cluster.signal(1, 'SIGKILL');
  live = [2, 3];
  // Node 2 takes over unless its log is behind node 3's (DESIGN.md): under
  // concurrent writes node 3 may hold entries that had not reached node 2, and
  // then only node 3 can win a majority. The simulator checks that rule against
  // the logs themselves; the 5-node test below checks the order with equal logs.
  const newMaster = await cluster.waitForMaster([2, 3]);
  const acknowledgedAtKill = log.acknowledged.size;
  await pollUntil(() => log.acknowledged.size >= acknowledgedAtKill + 100, { timeout_ms: 20_000, what: 'writes after fail-over' });
  await stop();

  await cluster.waitForConvergence([2, 3]);
  for (const id of [2, 3]) expect(missing(log.acknowledged, await rowIdsOn(cluster, id, 'items'))).toEqual([]);

  cluster.start(1);
  const statuses = await cluster.waitForConvergence([1, 2, 3]);
  expect(statuses.find((status) => status.id === 1)?.role).toBe('slave');
  // The old master rejoined without disrupting the new one (pre-vote).
  expect(await cluster.waitForMaster()).toBe(newMaster);
  expect(missing(log.acknowledged, await rowIdsOn(cluster, 1, 'items'))).toEqual([]);
});

it('5 nodes: each fail-over promotes the lowest-id live slave', async () => {
  cluster = await TestCluster.create({ size: 5 });
  await cluster.startAll();
  expect(await cluster.waitForMaster()).toBe(1);
  await createTable(cluster, 1);
  const write = async (node: number, row_id: string) => {
    const response = await cluster.client.post(`${cluster.url(node)}/insert`, { table_name: 'items', row_id, data: { v: 1 } });
    expect(response.status).toBe(201);
  };
  await write(5, 'before');
  // Equal logs on every slave, so the order alone decides: an acknowledged write
  // is on a majority, not yet on all, and a slave without it could not win.
  await cluster.waitForConvergence([1, 2, 3, 4, 5]);

  await cluster.signal(1, 'SIGKILL');
  expect(await cluster.waitForMaster([2, 3, 4, 5])).toBe(2);
  await write(4, 'after-first');
  await cluster.waitForConvergence([2, 3, 4, 5]);

  await cluster.signal(2, 'SIGKILL');
  expect(await cluster.waitForMaster([3, 4, 5])).toBe(3);
  await write(5, 'after-second');
  await cluster.waitForConvergence([3, 4, 5]);
  for (const id of [3, 4, 5]) {
    expect([...(await rowIdsOn(cluster, id, 'items'))].sort()).toEqual(['after-first', 'after-second', 'before']);
  }
});

it('a slave forwards writes, redirects privileged operations with 307, and serves strong reads', async () => {
  cluster = await TestCluster.create({ size: 3 });
  await cluster.startAll();
  expect(await cluster.waitForMaster()).toBe(1);

  const redirect = await cluster.client.post(`${cluster.url(2)}/create_table?db=main`, { table_name: 'items', columns: ['v'] });
  expect(redirect.status).toBe(307);
  expect(redirect.headers.location).toBe(`${cluster.url(1)}/create_table?db=main`);
  expect(redirect.data).toEqual({ error: expect.objectContaining({ code: 'NOT_MASTER', master: cluster.url(1) }) });

  await createTable(cluster, 1);
  const insert = await cluster.client.post(`${cluster.url(3)}/insert`, { table_name: 'items', row_id: 'x', data: { v: 1 } });
  expect(insert.status).toBe(201);
  const strong = await cluster.client.get(`${cluster.url(2)}/select?table=items&consistency=strong`);
  expect(strong.status).toBe(200);
  expect(strong.data.rows).toEqual([{ row_id: 'x', v: 1 }]);
  const duplicate = await cluster.client.post(`${cluster.url(2)}/insert`, { table_name: 'items', row_id: 'x', data: { v: 2 } });
  expect(duplicate.status).toBe(409);
});
