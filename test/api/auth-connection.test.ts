/**
 * A 401 is answered before the body is read. The client must still get it
 * whole when its body arrives after the headers, and for a small body the
 * connection stays usable (node drains the body); a large one is closed.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startSingleNode, type TestNode } from '../support/single-node';
import { writeTestUsers } from '../support/users';

let dir: string;
let test_node: TestNode;
let server: http.Server;
let port: number;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-auth-conn-'));
  await writeTestUsers(path.join(dir, 'users.json'), { alice: { password: 'secret', role: 'writer' } });
  test_node = await startSingleNode({ users_file: path.join(dir, 'users.json') });
  server = http.createServer(test_node.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  test_node.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function post(agent: http.Agent, body: string, authorization: string, delay_ms: number): Promise<{ status: number; connection: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/insert', agent, headers: { authorization, 'content-length': Buffer.byteLength(body) } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, text }));
    });
    request.on('error', reject);
    request.flushHeaders();
    setTimeout(() => request.end(body), delay_ms);
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

it('answers 401 to a body that comes late, and keeps the connection for the next request', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  server.on('connection', (socket) => sockets.add(socket));
  const body = JSON.stringify({ table_name: 'nope', row_id: '1', data: { a: 1 } });
  const refused = await post(agent, body, basic('alice', 'wrong'), 50);
  expect(refused.status).toBe(401);
  expect(JSON.parse(refused.text).error.code).toBe('UNAUTHENTICATED');
  expect(refused.connection).not.toBe('close');
  const next = await post(agent, body, basic('alice', 'secret'), 0);
  expect(next.status).toBe(404); // authenticated; the table does not exist
  expect(sockets.size).toBe(1);
  agent.destroy();
});

it('closes the connection rather than drain a large body it refused', async () => {
  const agent = new http.Agent({ keepAlive: true });
  const body = JSON.stringify({ table_name: 'nope', row_id: '1', data: { a: 'x'.repeat(200_000) } });
  const refused = await post(agent, body, basic('alice', 'wrong'), 0).catch((error: Error) => ({ status: -1, connection: 'reset', text: error.message }));
  // The client may see the 401 or, having written into a closed socket, a reset; either way nothing ran.
  expect([401, -1]).toContain(refused.status);
  if (refused.status === 401) expect(refused.connection).toBe('close');
  agent.destroy();
});
