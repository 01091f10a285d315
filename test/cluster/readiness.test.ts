/**
 * GET /ready against real processes: 503 NOT_READY with a reason while a node
 * knows no live master (before the first election, and when the master is
 * cut off from its majority), 200 on every node once a master is up and each
 * has applied what it committed. /health stays 200 throughout.
 */
import { TestCluster } from '../support/cluster';
import { pollUntil } from '../support/poll';

jest.setTimeout(60_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.destroy();
});

async function get(id: number, path: string): Promise<{ status: number; data: { ready?: boolean; error?: { code: string; message: string } } }> {
  const response = await cluster.client.get(`${cluster.url(id)}${path}`);
  return { status: response.status, data: response.data };
}

it('is not ready alone, ready with a majority, and not ready again when the majority is gone', async () => {
  cluster = await TestCluster.create({ size: 3 });
  cluster.start(1);
  await pollUntil(async () => (await cluster.status(1)) !== null, { timeout_ms: 10_000, what: 'node 1 to answer' });
  const alone = await get(1, '/ready');
  expect(alone.status).toBe(503);
  expect(alone.data.error?.code).toBe('NOT_READY');
  expect(alone.data.error?.message).toMatch(/no master/);
  expect((await get(1, '/health')).status).toBe(200);

  cluster.start(2);
  cluster.start(3);
  await cluster.waitForMaster();
  for (const id of [1, 2, 3]) {
    await pollUntil(async () => (await get(id, '/ready')).status === 200, { timeout_ms: 10_000, what: `node ${id} to be ready` });
  }

  await cluster.signal(2, 'SIGSTOP');
  await cluster.signal(3, 'SIGSTOP');
  const cut_off = await pollUntil(
    async () => {
      const answer = await get(1, '/ready');
      return answer.status === 503 ? answer : null;
    },
    { timeout_ms: 10_000, what: 'node 1 to stop being ready without its majority' },
  );
  expect(cut_off.data.error?.code).toBe('NOT_READY');
  expect((await get(1, '/health')).status).toBe(200);
  await cluster.signal(2, 'SIGCONT');
  await cluster.signal(3, 'SIGCONT');
});
