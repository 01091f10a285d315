/**
 * Protected mode with a node on a real non-loopback address: the test makes a
 * network namespace with a veth pair (10.214.x.1 here, 10.214.x.2 inside)
 * and runs the node inside it, reached from here over the pair. Off loopback
 * the node starts only with users and TLS, or with "insecure": true; without
 * them it exits with code 2 and says what is missing, before it makes a
 * cluster key or listens. Needs root (ip netns), as the chaos test does;
 * afterAll removes the namespace and the pair by name.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { makeCa, makeCertificate, type TestCa } from '../support/certs';
import { pollUntil } from '../support/poll';

jest.setTimeout(60_000);

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');
const SUFFIX = process.pid % 100_000;
const NAMESPACE = `ddb-pm-${SUFFIX}`;
const HOST_LINK = `ddbpm${SUFFIX}a`;
const NODE_LINK = `ddbpm${SUFFIX}b`;
const SUBNET = `10.214.${process.pid % 250}`;
const NODE_ADDRESS = `${SUBNET}.2`;
const PORT = 9000;

let dir: string;
let ca: TestCa;
const children = new Set<ChildProcess>();

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-protected-'));
  ip(['netns', 'add', NAMESPACE]);
  ip(['link', 'add', HOST_LINK, 'type', 'veth', 'peer', 'name', NODE_LINK]);
  ip(['link', 'set', NODE_LINK, 'netns', NAMESPACE]);
  ip(['addr', 'add', `${SUBNET}.1/30`, 'dev', HOST_LINK]);
  ip(['link', 'set', HOST_LINK, 'up']);
  ip(['-n', NAMESPACE, 'addr', 'add', `${NODE_ADDRESS}/30`, 'dev', NODE_LINK]);
  ip(['-n', NAMESPACE, 'link', 'set', NODE_LINK, 'up']);
  ip(['-n', NAMESPACE, 'link', 'set', 'lo', 'up']);
  ca = makeCa(dir, 'cluster');
});

afterEach(async () => {
  await Promise.all([...children].map(stop));
});

afterAll(() => {
  for (const args of [['netns', 'del', NAMESPACE], ['link', 'del', HOST_LINK]]) {
    try {
      ip(args);
    } catch {
      // gone already: deleting the namespace deletes the pair
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

interface NodeRun {
  child: ChildProcess;
  output: () => string;
  /** The messages of the node's JSON log lines. */
  messages: () => string[];
  exited: Promise<number | null>;
}

/** A node inside the namespace (ip netns exec execs it in place: the child's pid is the node's). */
function startNode(name: string, settings: Record<string, unknown>, scheme = 'http'): NodeRun {
  const case_dir = path.join(dir, name);
  fs.mkdirSync(case_dir);
  const config = { nodes: [{ id: 1, url: `${scheme}://${NODE_ADDRESS}:${PORT}` }], data_dir: path.join(case_dir, 'data'), ...settings };
  const file = path.join(case_dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify(config));
  const child = spawn('ip', ['netns', 'exec', NAMESPACE, process.execPath, MAIN, String(PORT), '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const messages = () => output.split('\n').filter((line) => line.startsWith('{')).map((line) => (JSON.parse(line) as { message: string }).message);
  return { child, output: () => output, messages, exited };
}

async function stop(child: ChildProcess): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}

function get(url: string, options: https.RequestOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith('https:') ? https.get : http.get)(url, { timeout: 1000, ...options }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

function usersFile(name: string): string {
  const file = path.join(dir, `${name}-users.json`);
  fs.writeFileSync(file, JSON.stringify({ users: {} }), { mode: 0o600 });
  return file;
}

function tlsFor(name: string): { cert_file: string; key_file: string; ca_file: string } {
  return { ...makeCertificate(ca, { dir, name, hosts: [`IP:${NODE_ADDRESS}`] }), ca_file: ca.ca_file };
}

it('refuses to start off loopback without users and TLS: exit code 2, what is missing and how to set it, no key made', async () => {
  const run = startNode('bare', {});
  expect(await run.exited).toBe(2);
  expect(run.output()).toMatch(new RegExp(`^ddb: node 1 \\(${NODE_ADDRESS.replace(/\./g, '\\.')}:${PORT}\\) is not on a loopback address, so protected mode asks for users, TLS and peer authentication before serving; missing: users and TLS\\.\n`));
  expect(run.output()).toMatch(/- users: set "users_file".*\n {2}- TLS: make every URL https:\/\/ and set "tls"/);
  expect(run.output()).toMatch(/set "insecure": true there\.\n$/);
  expect(fs.existsSync(path.join(dir, 'bare', 'cluster.key'))).toBe(false);
});

it.each([
  ['with TLS but no users', 'tls-only', () => ({ tls: tlsFor('tls-only') }), 'https', /missing: users\.\n {2}- users: /],
  ['with users but no TLS', 'users-only', () => ({ users_file: usersFile('users-only') }), 'http', /missing: TLS\.\n {2}- TLS: /],
])('refuses to start off loopback %s, naming only what is missing', async (_what, name, settings, scheme, message) => {
  const run = startNode(name, settings(), scheme);
  expect(await run.exited).toBe(2);
  expect(run.output()).toMatch(message);
});

it('a local cluster supervisor refuses the same config once, before it starts a node', async () => {
  const case_dir = path.join(dir, 'supervisor');
  fs.mkdirSync(case_dir);
  const file = path.join(case_dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify({ nodes: [{ id: 1, url: `http://${NODE_ADDRESS}:${PORT}` }, { id: 2, url: `http://${NODE_ADDRESS}:${PORT + 1}` }], data_dir: path.join(case_dir, 'data') }));
  const child = spawn('ip', ['netns', 'exec', NAMESPACE, process.execPath, MAIN, '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  expect(await new Promise((resolve) => child.once('close', resolve))).toBe(2);
  expect(output).toMatch(/^ddb: node 1 \(.*\), node 2 \(.*\) are not on a loopback address/);
  expect(output.match(/protected mode/g)).toHaveLength(1);
});

it('starts off loopback with "insecure": true, and warns what it lacks', async () => {
  const run = startNode('insecure', { insecure: true });
  expect(await pollUntil(() => get(`http://${NODE_ADDRESS}:${PORT}/health`).then((status) => status === 200), { timeout_ms: 15_000, what: `the insecure node to answer\n${run.output()}` })).toBe(true);
  expect(run.messages().filter((message) => message.startsWith(`"insecure": true: node 1 (${NODE_ADDRESS}:${PORT}) serves without users and TLS;`))).toHaveLength(1);
});

it('starts off loopback with users and TLS, served over https to a client that trusts the CA', async () => {
  const run = startNode('protected', { users_file: usersFile('protected'), tls: tlsFor('protected') }, 'https');
  const ca_pem = fs.readFileSync(ca.ca_file);
  const status = await pollUntil(() => get(`https://${NODE_ADDRESS}:${PORT}/health`, { ca: ca_pem }), { timeout_ms: 15_000, what: `the protected node to answer\n${run.output()}` });
  expect(status).toBe(200);
  expect(run.messages()).toContain(`node 1 serving https://${NODE_ADDRESS}:${PORT}`);
  expect(run.messages().filter((message) => /insecure|is open/.test(message))).toEqual([]);
  expect(fs.statSync(path.join(dir, 'protected', 'cluster.key')).mode & 0o777).toBe(0o600);
});
