/**
 * The cluster key file: made on a first start (32 random bytes, mode 0600,
 * no temporary file left), used as it is afterwards, and refused with the fix
 * when it is too short, open to other users, or not a file. Concurrent
 * creation by many processes, and a file the node may not read, are in
 * test/cluster/cluster-secret.test.ts (they need real processes).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLUSTER_SECRET_BYTES, loadClusterSecret } from '../../utils/cluster-secret';
import { ConfigError } from '../../utils/config';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-secret-'));
  file = path.join(dir, 'cluster.key');
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('makes a private key of 32 random bytes on a first start, and uses it afterwards', () => {
  const first = loadClusterSecret({ cluster_secret_file: file });
  expect(first).toHaveLength(CLUSTER_SECRET_BYTES);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.readFileSync(file)).toEqual(first);
  expect(fs.readdirSync(dir)).toEqual(['cluster.key']);
  expect(loadClusterSecret({ cluster_secret_file: file })).toEqual(first);
  fs.rmSync(file);
  expect(loadClusterSecret({ cluster_secret_file: file })).not.toEqual(first);
});

it('makes the key private whatever the umask', () => {
  const umask = process.umask(0);
  try {
    loadClusterSecret({ cluster_secret_file: file });
  } finally {
    process.umask(umask);
  }
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
});

it('uses a key copied from another node, of any length from 32 bytes, through a symbolic link too', () => {
  const copied = Buffer.from('a key of more than thirty-two bytes, copied from node 1\n');
  fs.writeFileSync(path.join(dir, 'real.key'), copied, { mode: 0o600 });
  fs.symlinkSync(path.join(dir, 'real.key'), file);
  expect(loadClusterSecret({ cluster_secret_file: file })).toEqual(copied);
});

it.each([
  ['is too short', () => fs.writeFileSync(file, 'short', { mode: 0o600 }), /has 5 bytes, fewer than 32; copy the key of the other nodes here/],
  ['is readable by everyone', () => fs.writeFileSync(file, Buffer.alloc(32, 1), { mode: 0o644 }), /can be read or changed by other users \(mode 0644\); make it private to this user: chmod 600 .*cluster\.key/],
  ['is readable by its group', () => fs.writeFileSync(file, Buffer.alloc(32, 1), { mode: 0o640 }), /\(mode 0640\); .*chmod 600/],
  ['is a directory', () => fs.mkdirSync(file), /is not a regular file/],
  ['is a link to nowhere', () => fs.symlinkSync(path.join(dir, 'gone'), file), /cannot be opened \(a symbolic link to nowhere/],
])('refuses a key file that %s, saying how to fix it', (_what, make, message) => {
  make();
  expect(() => loadClusterSecret({ cluster_secret_file: file })).toThrow(ConfigError);
  expect(() => loadClusterSecret({ cluster_secret_file: file })).toThrow(message);
});

it('says when the key cannot be made because its directory does not exist', () => {
  const missing = path.join(dir, 'no', 'cluster.key');
  expect(() => loadClusterSecret({ cluster_secret_file: missing })).toThrow(/cannot create cluster key .*: its directory does not exist.*head -c 32 \/dev\/urandom/);
});
