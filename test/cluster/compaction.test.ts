/**
 * Under sustained writes through real processes, every node's in-memory log,
 * the slaves' included, stays bounded and its snapshot keeps up, as /status
 * reports. (test/unit/node-compaction.test.ts pins the case of a ready loop
 * that never falls idle, which this load does not reliably produce.)
 */
import { load } from '../../scripts/bench-support';
import { TestCluster } from '../support/cluster';
import { pollUntil } from '../support/poll';

jest.setTimeout(120_000);

const LOG_ENTRIES_MAX = 200;
const WRITES = 20 * LOG_ENTRIES_MAX;
const TIME_LIMIT_S = 90;
/** Between two samples of every node's /status: often enough to see a log grow, rare enough not to load a 2-core machine. */
const SAMPLE_INTERVAL_MS = 50;
/** The load ends by TIME_LIMIT_S (bench-support's bound adds 1 s); sampling gives up a little after. */
const SAMPLING_TIMEOUT_MS = TIME_LIMIT_S * 1000 + 5000;

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.destroy();
});

it('keeps every node’s log under a few times log_entries_max while writes keep coming', async () => {
  cluster = await TestCluster.create({ size: 3, log_entries_max: LOG_ENTRIES_MAX });
  await cluster.startAll();
  const master = await cluster.waitForMaster();
  await cluster.client.post(`${cluster.url(master)}/create_table`, { table_name: 'items', columns: ['v'] });

  let sequence = 0;
  const body = () => ({ table_name: 'items', row_id: `r${(sequence += 1)}`, data: { v: sequence } });
  let loading = true;
  const writes = load({ name: 'writes', url: `${cluster.url(master)}/insert`, method: 'POST', body, connections: 64, amount: WRITES, duration_s: TIME_LIMIT_S }).finally(() => (loading = false));
  const longest = new Map<number, number>(cluster.ids().map((id) => [id, 0]));
  const samples = new Map<number, number>(cluster.ids().map((id) => [id, 0]));
  await pollUntil(
    async () => {
      const finished = !loading;
      for (const status of await Promise.all(cluster.ids().map((id) => cluster.status(id)))) {
        if (status === null) continue;
        longest.set(status.id, Math.max(longest.get(status.id) ?? 0, status.log_entries));
        if (!finished) samples.set(status.id, (samples.get(status.id) ?? 0) + 1);
      }
      return finished;
    },
    { timeout_ms: SAMPLING_TIMEOUT_MS, interval_ms: SAMPLE_INTERVAL_MS, what: 'the writes to end' },
  );
  const result = await writes;
  expect({ answered: result.requests, failed: result.non_2xx + result.errors }).toEqual({ answered: WRITES, failed: 0 });
  // Each node was seen under load, not only before or after it: a bound on no samples proves nothing.
  for (const [id, count] of samples) expect({ id, sampled_under_load: count >= 10 }).toEqual({ id, sampled_under_load: true });

  const settled = await cluster.waitForConvergence(cluster.ids());
  // Between compactions a log holds up to the limit, plus what one pass brings
  // and what is not yet applied: far below the writes made.
  const tooLong = [...longest].filter(([, entries]) => entries > 4 * LOG_ENTRIES_MAX);
  expect(tooLong).toEqual([]);
  for (const status of settled) expect(status.snapshot_index).toBeGreaterThan(WRITES - 2 * LOG_ENTRIES_MAX);
});
