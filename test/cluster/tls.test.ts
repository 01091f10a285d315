/**
 * TLS with real node processes (certificates from test/support/certs.ts):
 * the public API over https for curl --cacert and node clients with the CA,
 * refused by the handshake without it. Then a 3-node https cluster: a
 * fail-over, and a node whose certificate another CA signed kept out.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { upgrade } from '../support/peer-attacker';
import { TestCluster } from '../support/cluster';
import { pollUntil } from '../support/poll';
import { missing, newWriteLog, rowIdsOn, startWriters } from '../support/writers';

jest.setTimeout(90_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.destroy();
});

function curl(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-s', '--max-time', '5', ...args], (error, stdout) => resolve({ code: error === null ? 0 : Number(error.code), stdout }));
  });
}

describe('one node over https', () => {
  it('serves the API to clients that trust the CA, and the handshake refuses those that do not', async () => {
    cluster = await TestCluster.create({ size: 1, tls: {} });
    await cluster.startAll();
    expect(await cluster.waitForMaster()).toBe(1);
    const url = cluster.url(1);
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const ca_file = cluster.ca_file as string;

    const created = await curl(['--cacert', ca_file, '-X', 'POST', `${url}/create_table`, '-d', '{"table_name": "t", "columns": ["v"]}']);
    expect(created).toEqual({ code: 0, stdout: '{"table_name":"t","columns":["v"]}' });
    expect((await cluster.client.post(`${url}/insert`, { table_name: 't', row_id: '1', data: { v: 'x' } })).status).toBe(201);
    expect((await curl(['--cacert', ca_file, `${url}/select?table=t`])).stdout).toBe('{"rows":[{"row_id":"1","v":"x"}],"count":1}');

    // curl's 60: the peer certificate cannot be authenticated with the known CA certificates.
    expect((await curl([`${url}/health`])).code).toBe(60);
    expect((await curl([`${url.replace('https:', 'http:')}/health`])).stdout).not.toMatch(/"ok":true/);
    const refused = new Promise((resolve) => {
      https.get(`${url}/health`, { agent: false }, () => resolve('answered')).on('error', (error: NodeJS.ErrnoException) => resolve(error.code));
    });
    expect(await refused).toMatch(/^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/);
    expect(fs.readFileSync(cluster.logFile(1), 'utf8')).toContain(`node 1 serving ${url}`);
  });
});

describe('three nodes over https', () => {
  it('elects node 1, fails over when it is killed under writes, and takes it back as a slave', async () => {
    cluster = await TestCluster.create({ size: 3, tls: {} });
    await cluster.startAll();
    expect(await cluster.waitForMaster()).toBe(1);
    expect((await cluster.client.post(`${cluster.url(1)}/create_table`, { table_name: 'items', columns: ['v'] })).status).toBe(201);
    const log = newWriteLog();
    let live = [1, 2, 3];
    const stop = startWriters(cluster, { table: 'items', clients: 4, node_ids: () => live, log });
    await pollUntil(() => log.acknowledged.size >= 50, { timeout_ms: 20_000, what: '50 acknowledged writes' });
    await cluster.signal(1, 'SIGKILL');
    live = [2, 3];
    await cluster.waitForMaster([2, 3]);
    const acknowledged_at_kill = log.acknowledged.size;
    await pollUntil(() => log.acknowledged.size >= acknowledged_at_kill + 50, { timeout_ms: 20_000, what: 'writes after the fail-over' });
    await stop();
    cluster.start(1);
    const statuses = await cluster.waitForConvergence([1, 2, 3]);
    expect(statuses.find((status) => status.id === 1)?.role).toBe('slave');
    for (const id of [1, 2, 3]) expect(missing(log.acknowledged, await rowIdsOn(cluster, id, 'items'))).toEqual([]);
  });

  it('keeps out a node whose certificate another CA signed, though it holds the cluster key', async () => {
    cluster = await TestCluster.create({ size: 3, tls: { other_ca_ids: [3] } });
    await cluster.startAll();
    const master = await cluster.waitForMaster([1, 2]);
    expect((await cluster.client.post(`${cluster.url(master)}/create_table`, { table_name: 'items', columns: ['v'] })).status).toBe(201);
    await cluster.waitForConvergence([1, 2]);
    // Node 3 serves its own API (the test's client trusts both CAs), but no peer takes its traffic or sends it any.
    const outsider = await pollUntil(() => cluster.status(3), { timeout_ms: 5000, what: 'node 3 to answer' });
    expect(outsider).toMatchObject({ master_id: null, applied_index: 0 });
    expect(outsider.role).not.toBe('master');
    // A new master presumes every node live for one fail-over timeout; node 3 never answers, so it drops off.
    const master_view = await pollUntil(
      async () => (await cluster.status(master))?.nodes.find((node) => node.id === 3 && !node.alive),
      { timeout_ms: 10_000, what: 'the master to list node 3 as not alive' },
    );
    expect(master_view).toMatchObject({ alive: false, match_index: 0 });
    // The node's own peer-channel check: an upgrade proven with the cluster key, over a connection
    // showing the other CA's certificate (or none), is refused with 401.
    const secret = fs.readFileSync(path.join(cluster.dir, 'cluster.key'));
    const files = cluster.tlsFilesOf?.(3) as NonNullable<ReturnType<NonNullable<typeof cluster.tlsFilesOf>>>;
    const trust = fs.readFileSync(cluster.tlsFilesOf?.(1).ca_file as string);
    for (const shown of [{ cert: fs.readFileSync(files.cert_file), key: fs.readFileSync(files.key_file) }, {}]) {
      const attempt = await upgrade({ url: cluster.url(master), from: 3, to: master, secret, tls: { ca: trust, ...shown } });
      expect(attempt.status).toBe(401);
      attempt.socket.destroy();
    }
  });
});
