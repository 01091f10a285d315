/**
 * How request bodies are read (handlers/json-body.ts): JSON whatever the
 * Content-Type, compressed bodies inflated, a clear 400 or 413 for what cannot
 * be read, and the data left as it was.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import request from 'supertest';
import { startSingleNode, type TestNode } from '../support/single-node';

const LIMIT = 4096;
let test_node: TestNode;
beforeEach(async () => {
  test_node = await startSingleNode({ body_limit_bytes: LIMIT });
  await request(test_node.app).post('/create_table').send({ table_name: 't', columns: ['a'] });
});
afterEach(() => test_node.stop());

const row = (row_id: string, a: unknown = 1) => JSON.stringify({ table_name: 't', row_id, data: { a } });
const rowIds = () => test_node.node.engine.select(null, 't').rows.map((r) => String(r.row_id));

it('reads JSON sent with any Content-Type, or none', async () => {
  for (const [index, type] of ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=UTF-8'].entries()) {
    const response = await request(test_node.app).post('/insert').set('content-type', type).send(row(`r${index}`));
    expect(response.status).toBe(201);
  }
  expect(rowIds().sort()).toEqual(['r0', 'r1', 'r2', 'r3']);
});

it('skips a UTF-8 byte order mark', async () => {
  const response = await request(test_node.app).post('/insert').set('content-type', 'application/json').send(`\ufeff${row('bom')}`);
  expect(response.status).toBe(201);
});

it.each([
  ['gzip', zlib.gzipSync],
  ['deflate', zlib.deflateSync],
  ['br', zlib.brotliCompressSync],
])('inflates a %s body', async (encoding, compress) => {
  const response = await request(test_node.app)
    .post('/insert')
    // superagent would serialise a Buffer sent as application/json; ddb reads any type as JSON.
    .set('content-type', 'application/octet-stream')
    .set('content-encoding', encoding)
    .send(compress(Buffer.from(row(encoding))));
  expect(response.status).toBe(201);
  expect(rowIds()).toEqual([encoding]);
});

it.each([
  ['an unknown Content-Encoding', { 'content-encoding': 'zstd' }, row('x'), 400, 'INVALID_REQUEST'],
  ['a charset other than UTF-8', { 'content-type': 'application/json; charset=latin1' }, row('x'), 400, 'INVALID_REQUEST'],
  ['a corrupt gzip body', { 'content-encoding': 'gzip' }, 'not gzip at all', 400, 'INVALID_REQUEST'],
  ['a gzip body that inflates past the limit', { 'content-encoding': 'gzip' }, zlib.gzipSync(row('x', 'y'.repeat(LIMIT))), 413, 'PAYLOAD_TOO_LARGE'],
  ['JSON that is not an object', {}, '"just a string"', 400, 'INVALID_REQUEST'],
])('refuses %s', async (_what, headers, body, status, code) => {
  const response = await request(test_node.app).post('/insert').set({ 'content-type': 'application/octet-stream', ...headers }).send(body);
  expect(response.status).toBe(status);
  expect(response.body.error.code).toBe(code);
  expect(rowIds()).toEqual([]);
});

it('refuses a chunked body over the limit with 413, closes the connection, and keeps serving', async () => {
  const server = http.createServer(test_node.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const answer = await new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
      const call = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/insert', headers: { 'transfer-encoding': 'chunked' } }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, body }));
      });
      call.on('error', reject);
      // More than the limit, in chunks; the server may close before it has read them all.
      for (let sent = 0; sent <= LIMIT * 4; sent += 1024) call.write('x'.repeat(1024));
      call.end();
    });
    expect(answer.status).toBe(413);
    expect(answer.connection).toBe('close');
    expect(JSON.parse(answer.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await request(server).post('/insert').send(JSON.parse(row('after')))).status).toBe(201);
    expect(rowIds()).toEqual(['after']);
  } finally {
    server.close();
  }
});
