/**
 * The cluster key with real processes: many started at once on a fresh
 * directory end with one key between them (the file they all read), and a
 * key file the node's user may not read stops it with the reason. Runs the
 * compiled dist/utils/cluster-secret.js, so build first (npm test does).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

jest.setTimeout(120_000);

const MODULE = path.resolve(__dirname, '..', '..', 'dist', 'utils', 'cluster-secret.js');
const PROCESSES = 12;
const ROUNDS = 3;
/** Each child says "ready" once loaded, waits for a line on stdin, then loads the key and prints it: all start together. */
const CHILD = `
const { loadClusterSecret } = require(${JSON.stringify(MODULE)});
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  try {
    process.stdout.write('key ' + loadClusterSecret({ cluster_secret_file: process.argv[1] }).toString('hex') + '\\n');
    process.exit(0);
  } catch (error) {
    process.stdout.write('error ' + error.message + '\\n');
    process.exit(3);
  }
});
`;

let dir: string;
const children = new Set<ChildProcess>();

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-secret-race-'));
});

afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Racer {
  ready: Promise<void>;
  output: Promise<string>;
  child: ChildProcess;
}

function startRacer(file: string): Racer {
  const child = spawn(process.execPath, ['-e', CHILD, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  let text = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    if (text.startsWith('ready\n')) onReady();
  });
  // 'close', not 'exit': 'exit' may come before the last of stdout has been read.
  const output = new Promise<string>((resolve) => child.once('close', () => resolve(text)));
  return { ready, output, child };
}

it(`gives ${PROCESSES} processes that start at once on a fresh directory one key, ${ROUNDS} rounds running`, async () => {
  for (let round = 1; round <= ROUNDS; round += 1) {
    const file = path.join(dir, `round-${round}`, 'cluster.key');
    fs.mkdirSync(path.dirname(file));
    const racers = Array.from({ length: PROCESSES }, () => startRacer(file));
    await Promise.all(racers.map((racer) => racer.ready));
    for (const racer of racers) racer.child.stdin?.write('go\n');
    const outputs = await Promise.all(racers.map((racer) => racer.output));
    const keys = outputs.map((output) => output.split('\n').find((line) => line.startsWith('key ') || line.startsWith('error ')));
    expect(new Set(keys)).toEqual(new Set([`key ${fs.readFileSync(file).toString('hex')}`]));
    expect(fs.readdirSync(path.dirname(file))).toEqual(['cluster.key']);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  }
});

it('says so when the node runs as a user that may not read the key', () => {
  if (process.getuid?.() !== 0) return; // needs root to run the reader as another user; as that user, chmod 000 would show the same
  fs.chmodSync(dir, 0o755);
  const file = path.join(dir, 'cluster.key');
  fs.writeFileSync(file, Buffer.alloc(32, 7), { mode: 0o600 });
  const script = `try { require(${JSON.stringify(MODULE)}).loadClusterSecret({ cluster_secret_file: process.argv[1] }) } catch (error) { console.log(error.name + ': ' + error.message) }`;
  const result = spawnSync(process.execPath, ['-e', script, file], { uid: 65534, gid: 65534, encoding: 'utf8' });
  expect(result.stdout).toMatch(/^ConfigError: cannot read cluster key .*cluster\.key: permission denied for the user this node runs as \(uid 65534\); give that user the file \(chown\)/);
});
