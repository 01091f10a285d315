/**
 * Under sustained writes through real processes, every node's in-memory log,
 * the slaves' included, stays bounded and its snapshot keeps up, as /status
 * reports. (test/unit/node-compaction.test.ts pins the case of a ready loop
 * that never falls idle, which this load does not reliably produce.)
 */
import { load } from '../../scripts/bench-support';
import { TestCluster, type StatusBody } from '../support/cluster';

jest.setTimeout(120_000);

const LOG_ENTRIES_MAX = 200;
const WRITES = 20 * LOG_ENTRIES_MAX;
const TIME_LIMIT_S = 90;

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.destroy();
});

it('keeps every node’s log under a few times log_entries_max while writes keep coming', async () => {
  cluster = await TestCluster.create({ size: 3, log_entries_max: LOG_ENTRIES_MAX });
  cluster.startAll();
  const master = await cluster.waitForMaster();
  await cluster.client.post(`${cluster.url(master)}/create_table`, { table_name: 'items', columns: ['v'] });

  let sequence = 0;
  const body = () => ({ table_name: 'items', row_id: `r${(sequence += 1)}`, data: { v: sequence } });
  let loading = true;
  const writes = load({ name: 'writes', url: `${cluster.url(master)}/insert`, method: 'POST', body, connections: 64, amount: WRITES, duration_s: TIME_LIMIT_S }).finally(() => (loading = false));
  const longest = new Map<number, number>(cluster.ids().map((id) => [id, 0]));
  while (loading) {
    const statuses = await Promise.all(cluster.ids().map(async (id) => (await cluster.client.get(`${cluster.url(id)}/status`)).data as StatusBody));
    for (const status of statuses) longest.set(status.id, Math.max(longest.get(status.id) ?? 0, status.log_entries));
  }
  const result = await writes;
  expect({ answered: result.requests, failed: result.non_2xx + result.errors }).toEqual({ answered: WRITES, failed: 0 });

  const settled = await cluster.waitForConvergence(cluster.ids());
  // Between compactions a log holds up to the limit, plus what one pass brings
  // and what is not yet applied: far below the writes made.
  const tooLong = [...longest].filter(([, entries]) => entries > 4 * LOG_ENTRIES_MAX);
  expect(tooLong).toEqual([]);
  for (const status of settled) expect(status.snapshot_index).toBeGreaterThan(WRITES - 2 * LOG_ENTRIES_MAX);
});
