/** GET /status and /health in the contract's shape, for a cluster of one. */
import request from 'supertest';
import { startSingleNode, type TestNode } from '../support/single-node';

let test_node: TestNode;
beforeAll(async () => {
  test_node = await startSingleNode();
});
afterAll(() => test_node.stop());

it('reports the node as master of its own cluster, with the applied index and state hash', async () => {
  await request(test_node.app).post('/create_table').send({ table_name: 't', columns: ['a'] });
  const response = await request(test_node.app).get('/status');
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({ id: 1, role: 'master', master_id: 1, master_url: 'http://127.0.0.1:1' });
  expect(response.body.term).toBeGreaterThanOrEqual(1);
  expect(response.body.applied_index).toBe(response.body.commit_index);
  expect(response.body.applied_index).toBeGreaterThanOrEqual(2);
  expect(response.body.state_hash).toMatch(/^[0-9a-f]{64}$/);
  expect(response.body.nodes).toEqual([expect.objectContaining({ id: 1, role: 'master', alive: true })]);
});

it('answers /health', async () => {
  const response = await request(test_node.app).get('/health');
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({ ok: true, id: 1, role: 'master' });
});

it('answers /ready once the node is master and has applied its commits', async () => {
  const response = await request(test_node.app).get('/ready');
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({ ready: true, id: 1, role: 'master', master_id: 1 });
});
