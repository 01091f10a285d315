/**
 * The node's server with TLS (src/http/server.ts): the public API over https
 * for a client that trusts the cluster's CA, and no client certificate
 * needed; a client that does not trust the CA is refused by the handshake;
 * the server tells a connection with a certificate the CA signed (a peer's)
 * from one without, or with a certificate of another CA.
 */
import fs from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createServer, listen, presentedTrustedCertificate, type NodeServer } from '../../src/http/server';
import { tlsMaterial, type TlsMaterial } from '../../src/http/tls-material';
import { createSilentLogger } from '../../utils/logger';
import { makeCa, makeCertificate, type TestCertificate } from '../support/certs';
import { startSingleNode, type TestNode } from '../support/single-node';

let dir: string;
let test_node: TestNode;
let server: NodeServer;
let material: TlsMaterial;
let base_url: string;
let peer: TestCertificate;
let stranger: TestCertificate;
/** presentedTrustedCertificate of each connection, in the order they were made. */
const trusted: boolean[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-https-'));
  const ca = makeCa(dir, 'cluster');
  const own = makeCertificate(ca, { dir, name: 'node-1' });
  peer = makeCertificate(ca, { dir, name: 'node-2' });
  stranger = makeCertificate(makeCa(dir, 'stranger'), { dir, name: 'stranger' });
  material = tlsMaterial({ tls: { ...own, ca_file: ca.ca_file } });
  test_node = await startSingleNode();
  server = createServer(test_node.process_node, test_node.app, createSilentLogger(), material);
  server.on('secureConnection', (socket: TLSSocket) => trusted.push(presentedTrustedCertificate(socket as net.Socket)));
  await listen(server, 0, '127.0.0.1');
  base_url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  test_node.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: unknown;
}

function request(method: string, url_path: string, options: https.RequestOptions & { body?: unknown } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const outgoing = https.request(`${base_url}${url_path}`, { method, agent: false, ...options }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

it('serves the public API over https to a client that trusts the CA, without a client certificate', async () => {
  const ca = material.ca;
  expect((await request('GET', '/health', { ca })).status).toBe(200);
  expect((await request('POST', '/create_table', { ca, body: { table_name: 't', columns: ['v'] } })).status).toBe(201);
  expect((await request('POST', '/insert', { ca, body: { table_name: 't', row_id: '1', data: { v: 'over tls' } } })).status).toBe(201);
  expect(await request('GET', '/select?table=t', { ca })).toEqual({ status: 200, body: { rows: [{ row_id: '1', v: 'over tls' }], count: 1 } });
});

it('is refused by the handshake for a client that does not trust the CA', async () => {
  // The server sends the CA with its own certificate, so the client finds a self-signed certificate it does not trust.
  await expect(request('GET', '/health')).rejects.toMatchObject({ code: expect.stringMatching(/^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/) });
});

it('tells a peer (a certificate the CA signed) from a client without one, or with another CA\'s', async () => {
  trusted.length = 0;
  const ca = material.ca;
  const read = (certificate: TestCertificate) => ({ ca, cert: fs.readFileSync(certificate.cert_file), key: fs.readFileSync(certificate.key_file) });
  expect((await request('GET', '/health', { ca })).status).toBe(200);
  expect((await request('GET', '/health', read(peer))).status).toBe(200);
  expect((await request('GET', '/health', read(stranger))).status).toBe(200);
  expect(trusted).toEqual([false, true, false]);
});
