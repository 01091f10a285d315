/**
 * `npm start` without a port: the supervisor of a local cluster, as real
 * processes. Its output is a pipe here, so every line must be JSON; it says
 * when the cluster is ready and who is master; every way of stopping it ends
 * every node; a node that cannot start (its port is taken) stops the cluster
 * with one clear line and exit code 1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/cluster';
import { pollUntil } from '../support/poll';
import { descendantsOf, isRunning, processesWithArgument } from '../support/processes';

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

interface Run {
  process: ChildProcess;
  lines: () => string[];
  exited: Promise<number | null>;
}

let dir: string;
let started: Run[] = [];
let blockers: net.Server[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-local-cluster-'));
});

afterEach(async () => {
  for (const run of started) {
    for (const pid of [...descendantsOf(run.process.pid as number), run.process.pid as number]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  started = [];
  await Promise.all(blockers.map((server) => new Promise((resolve) => server.close(resolve))));
  blockers = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

async function writeConfig(): Promise<{ file: string; ports: number[] }> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const config = {
    nodes: ports.map((port, index) => ({ id: index + 1, url: `http://127.0.0.1:${port}` })),
    heartbeat_ms: 50,
    failover_timeout_ms: 500,
    election_stagger_ms: 150,
    data_dir: path.join(dir, 'data'),
  };
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify(config));
  return { file, ports };
}

function startCommand(command: string, args: string[]): Run {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DDB_LOG_FORMAT: '' } });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const run = { process: child, lines: () => output.split('\n').filter((line) => line !== ''), exited };
  started.push(run);
  return run;
}

function startSupervisor(config_file: string): Run {
  return startCommand(process.execPath, [MAIN, '--config', config_file]);
}

async function waitForReadyLine(run: Run): Promise<{ message: string }> {
  return pollUntil(
    () => run.lines().map((line) => JSON.parse(line) as { message: string }).find((line) => line.message.startsWith('cluster ready')),
    { timeout_ms: 30_000, what: `the ready line in:\n${run.lines().join('\n')}` },
  );
}

async function expectAllGone(pids: number[]): Promise<void> {
  await pollUntil(() => pids.every((pid) => !isRunning(pid)), { timeout_ms: 10_000, what: `processes ${pids.join(', ')} to end` });
}

it('writes JSON lines to a pipe, says who is master once ready, and SIGTERM ends every node', async () => {
  const { file, ports } = await writeConfig();
  const run = startSupervisor(file);
  const ready = await waitForReadyLine(run);
  expect(ready.message).toMatch(new RegExp(`^cluster ready: master node 1 http://127.0.0.1:${ports[0]}, slaves node 2 .*; try: curl -s http://127.0.0.1:${ports[0]}/status`));
  // Every line is a JSON object with a node id or the supervisor's mark.
  for (const line of run.lines()) expect(JSON.parse(line)).toEqual(expect.objectContaining({ level: expect.any(String), message: expect.any(String) }));
  // Said once for the cluster, by the supervisor, which also made the cluster key beside the config.
  const notices = run.lines().filter((line) => line.includes('the public API is open'));
  expect(notices.map((line) => JSON.parse(line) as { message: string; component?: string })).toEqual([
    expect.objectContaining({ component: 'supervisor', message: expect.stringMatching(/^every node is on loopback and no users_file is set/) }),
  ]);
  expect(fs.statSync(path.join(dir, 'cluster.key')).mode & 0o777).toBe(0o600);
  const nodes = descendantsOf(run.process.pid as number);
  expect(nodes).toHaveLength(3);
  process.kill(run.process.pid as number, 'SIGTERM');
  expect(await run.exited).toBe(0);
  await expectAllGone(nodes);
});

it.each(['SIGINT', 'SIGHUP'] as const)('%s ends every node', async (signal) => {
  const { file } = await writeConfig();
  const run = startSupervisor(file);
  await waitForReadyLine(run);
  const nodes = descendantsOf(run.process.pid as number);
  expect(nodes).toHaveLength(3); // or "every node ended" would hold of none
  process.kill(run.process.pid as number, signal);
  expect(await run.exited).toBe(0);
  await expectAllGone(nodes);
});

it('a SIGKILL of the supervisor leaves no node behind', async () => {
  const { file } = await writeConfig();
  const run = startSupervisor(file);
  await waitForReadyLine(run);
  const nodes = descendantsOf(run.process.pid as number);
  expect(nodes).toHaveLength(3);
  process.kill(run.process.pid as number, 'SIGKILL');
  await expectAllGone(nodes);
});

it('kill -TERM of `npm start` ends the supervisor and every node', async () => {
  const { file } = await writeConfig();
  const run = startCommand('npm', ['start', '--', '--config', file]);
  await waitForReadyLine({ ...run, lines: () => run.lines().filter((line) => line.startsWith('{')) });
  const tree = descendantsOf(run.process.pid as number);
  expect(tree.length).toBeGreaterThanOrEqual(4);
  process.kill(run.process.pid as number, 'SIGTERM');
  await run.exited;
  await expectAllGone(tree);
});

it('a port in use: one line naming the port and its holder, exit code 1, no node left running', async () => {
  const { file, ports } = await writeConfig();
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(ports[1], '127.0.0.1', resolve));
  blockers.push(blocker);
  const run = startSupervisor(file);
  const code = await run.exited;
  expect(code).toBe(1);
  const messages = run.lines().map((line) => (JSON.parse(line) as { message: string }).message);
  expect(messages).toContainEqual(`ddb: port ${ports[1]} on 127.0.0.1 is already in use by pid ${process.pid} (${fs.readFileSync('/proc/self/cmdline', 'utf8').split('\0').filter(Boolean).join(' ')}); stop that process or choose another port in the config`);
  expect(messages).toContainEqual(expect.stringMatching(/^node 2 failed to start \(exit code 1\); stopping the cluster$/));
  expect(messages.filter((message) => message.includes('Error') || message.includes('    at '))).toEqual([]);
  // The supervisor has exited, so its nodes would be no one's descendants: find them by their config.
  await pollUntil(() => processesWithArgument(file).length === 0, {
    timeout_ms: 10_000,
    what: `no process left running with ${file}`,
  });
});
