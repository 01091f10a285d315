/**
 * SIGSTOP of the master: it is replaced, and once resumed it steps down
 * without acknowledging any write. A full-cluster restart keeps every
 * acknowledged write; a slave far behind catches up by snapshot.
 */
import { TestCluster, type StatusBody } from '../support/cluster';
import { pollUntil } from '../support/poll';
import { missing, rowIdsOn } from '../support/writers';

jest.setTimeout(90_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.destroy();
});

async function insert(cluster: TestCluster, node: number, row_id: string, timeout = 10_000) {
  return cluster.client.post(`${cluster.url(node)}/insert`, { table_name: 'items', row_id, data: { v: row_id } }, { timeout });
}

it('a paused master is replaced and, resumed, steps down without acknowledging the write it was sent', async () => {
  cluster = await TestCluster.create({ size: 3 });
  await cluster.startAll();
  // Usually node 1; on a loaded machine a node that booted late may lose the first election.
  const master = await cluster.waitForMaster();
  const [first, second] = cluster.ids().filter((id) => id !== master) as [number, number];
  await cluster.client.post(`${cluster.url(master)}/create_table`, { table_name: 'items', columns: ['v'] });
  expect((await insert(cluster, master, 'before')).status).toBe(201);
  // Equal logs, so the lower-id slave is not passed over for lacking 'before' (it is on a majority, maybe not on that slave yet).
  await cluster.waitForConvergence([1, 2, 3]);

  await cluster.signal(master, 'SIGSTOP');
  // Sent while the master is frozen: it will only be read after SIGCONT.
  const frozenWrite = insert(cluster, master, 'sent-to-paused-master', 20_000);
  expect(await cluster.waitForMaster([first, second])).toBe(first);
  expect((await insert(cluster, second, 'during-pause')).status).toBe(201);

  await cluster.signal(master, 'SIGCONT');
  const answer = await frozenWrite;
  const statuses = await cluster.waitForConvergence([1, 2, 3]);
  expect(statuses.find((status) => status.id === master)?.role).toBe('slave');
  const rows = await rowIdsOn(cluster, first, 'items');
  // The old master may not acknowledge a write the new master never got; if it
  // answered 201 the row must exist (it may have been forwarded after stepping down).
  if (answer.status === 201) expect(rows.has('sent-to-paused-master')).toBe(true);
  else expect(answer.status).toBe(503);
  expect(rows.has('before') && rows.has('during-pause')).toBe(true);
});

it('a full-cluster restart keeps every acknowledged write', async () => {
  cluster = await TestCluster.create({ size: 3 });
  await cluster.startAll();
  await cluster.waitForMaster();
  await cluster.client.post(`${cluster.url(1)}/create_table`, { table_name: 'items', columns: ['v'] }, { maxRedirects: 5 });
  const acknowledged = new Set<string>();
  for (let i = 0; i < 50; i += 1) {
    const row_id = `r${i}`;
    if ((await insert(cluster, 1 + (i % 3), row_id)).status === 201) acknowledged.add(row_id);
  }
  expect(acknowledged.size).toBe(50);
  for (const id of cluster.ids()) await cluster.signal(id, 'SIGKILL');
  await cluster.startAll();
  await cluster.waitForMaster();
  await cluster.waitForConvergence(cluster.ids());
  for (const id of cluster.ids()) expect(missing(acknowledged, await rowIdsOn(cluster, id, 'items'))).toEqual([]);
});

it('a slave far behind catches up from a snapshot', async () => {
  cluster = await TestCluster.create({ size: 3, log_entries_max: 50 });
  await cluster.startAll();
  const master = await cluster.waitForMaster();
  const behind = cluster.ids().filter((id) => id !== master).at(-1) as number;
  const others = cluster.ids().filter((id) => id !== behind);
  await cluster.client.post(`${cluster.url(master)}/create_table`, { table_name: 'items', columns: ['v'] });
  const before = (await cluster.waitForConvergence([1, 2, 3]))[0] as StatusBody;
  await cluster.signal(behind, 'SIGKILL');
  const acknowledged = new Set<string>();
  for (let i = 0; i < 400; i += 1) {
    if ((await insert(cluster, master, `r${i}`)).status === 201) acknowledged.add(`r${i}`);
  }
  expect(acknowledged.size).toBe(400);
  // The node behind stopped at `before.applied_index`; the entries after it are gone from
  // every live log, so only a snapshot can bring it up to date.
  for (const id of others) {
    expect({ id, compacted_past_it: ((await cluster.status(id))?.snapshot_index ?? 0) > before.applied_index }).toEqual({
      id,
      compacted_past_it: true,
    });
  }
  cluster.start(behind);
  const after = (await cluster.waitForConvergence([1, 2, 3])).find((status) => status.id === behind) as StatusBody;
  // Its log now begins after a snapshot it could only have received from the master.
  expect(after.snapshot_index).toBeGreaterThan(before.applied_index);
  await pollUntil(async () => (await cluster.client.get(`${cluster.url(behind)}/ready`)).status === 200, {
    timeout_ms: 5000,
    what: `node ${behind} to be ready`,
  });
  expect(missing(acknowledged, await rowIdsOn(cluster, behind, 'items'))).toEqual([]);
});
