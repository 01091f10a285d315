/**
 * What a node process settles before it serves, on loopback: it makes the
 * cluster key beside its config and says once that its API is open without
 * users; a bad key or TLS file stops it (and a local cluster's supervisor,
 * before any node starts) with exit code 2 and one message saying the fix.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, TestCluster } from '../support/cluster';

jest.setTimeout(60_000);

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.destroy();
});

/** Runs main.js to its end (these runs stop at once); its exit code and stderr. */
function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

async function writeConfig(extra: Record<string, unknown> = {}, scheme = 'http'): Promise<{ file: string; port: number }> {
  const port = await freePort();
  const file = path.join(cluster.dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify({ nodes: [{ id: 1, url: `${scheme}://127.0.0.1:${port}` }], data_dir: path.join(cluster.dir, 'data'), ...extra }));
  return { file, port };
}

it('makes the cluster key beside its config, and says once that the API is open on loopback', async () => {
  cluster = await TestCluster.create({ size: 1 });
  await cluster.startAll();
  await cluster.waitForMaster();
  const key = path.join(cluster.dir, 'cluster.key');
  expect(fs.statSync(key).mode & 0o777).toBe(0o600);
  expect(fs.statSync(key).size).toBe(32);
  const notices = fs.readFileSync(cluster.logFile(1), 'utf8').split('\n').filter((line) => line.includes('the public API is open'));
  expect(notices).toHaveLength(1);
  expect(JSON.parse(notices[0] as string)).toMatchObject({ level: 'info', message: expect.stringMatching(/^node 1 is on loopback and no users_file is set/) });
});

it('a key file other users can read stops the node and its supervisor: exit code 2, chmod 600', async () => {
  cluster = await TestCluster.create({ size: 1 });
  const key = path.join(cluster.dir, 'shared.key');
  fs.writeFileSync(key, Buffer.alloc(32, 1), { mode: 0o644 });
  const { file, port } = await writeConfig({ cluster_secret_file: 'shared.key' });
  const expected = `ddb: cluster key ${key} can be read or changed by other users (mode 0644); make it private to this user: chmod 600 ${key}\n`;
  expect(await run([String(port), '--config', file])).toEqual({ code: 2, stderr: expected });
  expect(await run(['--config', file])).toEqual({ code: 2, stderr: expected });
});

it('a TLS file that is missing stops the node: exit code 2, naming the file', async () => {
  cluster = await TestCluster.create({ size: 1 });
  const { file, port } = await writeConfig({ tls: { cert_file: 'node.crt', key_file: 'node.key', ca_file: 'ca.crt' } }, 'https');
  const result = await run([String(port), '--config', file]);
  expect(result.code).toBe(2);
  expect(result.stderr).toBe(`ddb: cannot read tls.cert_file ${path.join(cluster.dir, 'node.crt')}: no such file (the README's TLS section shows how to make them with openssl)\n`);
});

it('a users file that is missing or invalid stops the node and its supervisor: exit code 2, naming the file and the key', async () => {
  cluster = await TestCluster.create({ size: 1 });
  const users = path.join(cluster.dir, 'users.json');
  const { file, port } = await writeConfig({ users_file: 'users.json' });
  const missing = `ddb: users file ${users} does not exist; make it with \`ddb user add <name> --role admin\` (or fix "users_file" in config.json)\n`;
  expect(await run([String(port), '--config', file])).toEqual({ code: 2, stderr: missing });
  expect(await run(['--config', file])).toEqual({ code: 2, stderr: missing });
  fs.writeFileSync(users, JSON.stringify({ users: { alice: { password: 'hunter2', role: 'writer' } } }), { mode: 0o600 });
  const result = await run([String(port), '--config', file]);
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/^ddb: users file .*users\.json: \/users\/alice\/password is not a password hash/);
  expect(result.stderr).not.toContain('hunter2');
});

it('a port already taken stops the node, and startAll says so at once with the log, not after its deadline', async () => {
  cluster = await TestCluster.create({ size: 1 });
  // It answers nothing: a connection from startAll's polls is closed at once, so close() does not wait for it.
  const holder = net.createServer((socket) => socket.destroy());
  const { port, hostname } = new URL(cluster.url(1));
  await new Promise<void>((resolve) => holder.listen(Number(port), hostname, resolve));
  try {
    const started_ms = Date.now();
    await expect(cluster.startAll()).rejects.toThrow(/node 1 exited while starting; its log ends:\n[^]*port \d+ on 127.0.0.1 is already in use/);
    // The deadline is 30 s; a node that cannot listen ends in well under that.
    expect(Date.now() - started_ms).toBeLessThan(25_000);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
});
