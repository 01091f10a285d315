/**
 * `ddb user` as a user runs it: `node dist/src/cli/ddb.js user ...` on a temp
 * config. The users file it writes holds hashes and digests, never the
 * password or the token, and has mode 0600; nodes' own loader accepts it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyPassword } from '../../src/auth/password-hash';
import { tokenMatches } from '../../src/auth/tokens';
import { readUsersFile } from '../../src/auth/users-file';

jest.setTimeout(60_000);

const DDB = path.resolve(__dirname, '..', '..', 'dist', 'src', 'cli', 'ddb.js');

let dir: string;
let config: string;
let users_file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-user-cli-'));
  config = path.join(dir, 'config.json');
  users_file = path.join(dir, 'users.json');
  fs.writeFileSync(config, JSON.stringify({ nodes: [{ id: 1, url: 'http://127.0.0.1:9999' }], users_file: 'users.json' }));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function ddb(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DDB, ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const fileText = () => fs.readFileSync(users_file, 'utf8');

it('adds, lists, changes the password and role, makes and revokes tokens, and removes users', async () => {
  expect(fs.existsSync(users_file)).toBe(false);
  expect(await ddb(['user', 'add', 'alice', '--role', 'writer', '--database', 'shop', '--password-stdin'], 'first-secret\n')).toMatchObject({ code: 0 });
  expect(fs.statSync(users_file).mode & 0o777).toBe(0o600);
  expect(fileText()).not.toContain('first-secret');
  let alice = readUsersFile(users_file).users.alice;
  expect(alice).toMatchObject({ role: 'writer', databases: ['shop'] });
  expect(await verifyPassword('first-secret', alice.password as string)).toBe(true);

  expect((await ddb(['user', 'add', 'alice', '--role', 'reader', '--password-stdin'], 'x')).code).toBe(2);
  expect(await ddb(['user', 'add', 'root', '--role', 'admin', '--password-stdin', '--config', config], 'root-secret')).toMatchObject({ code: 0 });

  expect(await ddb(['user', 'passwd', 'alice', '--password-stdin'], 'second-secret\n')).toMatchObject({ code: 0 });
  alice = readUsersFile(users_file).users.alice;
  expect(await verifyPassword('second-secret', alice.password as string)).toBe(true);
  expect(await verifyPassword('first-secret', alice.password as string)).toBe(false);

  expect(await ddb(['user', 'role', 'alice', '--role', 'admin'])).toMatchObject({ code: 0 });
  expect(readUsersFile(users_file).users.alice).toEqual({ password: alice.password, role: 'admin' });
  expect(await ddb(['user', 'role', 'alice', '--role', 'reader', '--database', 'a', '--database', 'b'])).toMatchObject({ code: 0 });
  expect(readUsersFile(users_file).users.alice).toMatchObject({ role: 'reader', databases: ['a', 'b'] });

  const made = await ddb(['user', 'token', 'alice']);
  expect(made.code).toBe(0);
  const token = made.stdout.trim();
  expect(token).toMatch(/^ddb_[a-z0-9]+_[A-Za-z0-9_-]{43}$/);
  expect(fileText()).not.toContain(token.split('_')[2]);
  const [stored] = readUsersFile(users_file).users.alice.tokens ?? [];
  expect(tokenMatches(token, stored)).toBe(true);

  const list = await ddb(['user', 'list']);
  expect(list.code).toBe(0);
  expect(list.stdout).toContain(`alice\treader\tdatabases: a, b\tpassword set\ttokens: ${stored.id}`);
  expect(list.stdout).toContain('root\tadmin\tevery database');
  expect(list.stdout).not.toContain('scrypt');
  expect(list.stdout).not.toContain(stored.sha256);

  expect((await ddb(['user', 'revoke', 'alice', 'nosuchtoken'])).code).toBe(2);
  expect(await ddb(['user', 'revoke', 'alice', stored.id])).toMatchObject({ code: 0 });
  expect(readUsersFile(users_file).users.alice.tokens).toEqual([]);

  expect(await ddb(['user', 'remove', 'alice'])).toMatchObject({ code: 0 });
  expect(Object.keys(readUsersFile(users_file).users)).toEqual(['root']);
  expect(fs.statSync(users_file).mode & 0o777).toBe(0o600);
  expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'users.json']);
});

it('refuses passwords on the command line, bad roles, unknown users and commands, with exit code 2', async () => {
  const refusals: [string[], RegExp][] = [
    [['user', 'add', 'bob', '--role', 'reader', '--password', 'hunter2'], /visible to every user/],
    [['user', 'add', 'bob', '--role', 'owner', '--password-stdin'], /--role must be one of reader, writer, admin/],
    [['user', 'add', 'b:ob', '--role', 'reader', '--password-stdin'], /user name 'b:ob'/],
    [['user', 'passwd', 'nobody', '--password-stdin'], /no user 'nobody'/],
    [['user', 'frobnicate'], /unknown user command/],
    [['user', 'add', 'bob', '--role', 'reader'], /no terminal.*--password-stdin/],
    [['status'], /'ddb status' is not written yet/],
    [['nonsense'], /unknown command 'nonsense'/],
  ];
  for (const [args, message] of refusals) {
    const result = await ddb(args, 'pw');
    expect({ args, code: result.code }).toEqual({ args, code: 2 });
    expect(result.stderr).toMatch(message);
  }
  expect(fs.existsSync(users_file)).toBe(false);
  fs.writeFileSync(config, JSON.stringify({ nodes: [{ id: 1, url: 'http://127.0.0.1:9999' }] }));
  const no_file = await ddb(['user', 'list']);
  expect(no_file.code).toBe(2);
  expect(no_file.stderr).toMatch(/has no "users_file"; add "users_file": "users.json"/);
  expect(await ddb(['user', 'add', 'bob', '--role', 'reader', '--password-stdin', '--users-file', path.join(dir, 'other.json')], 'pw')).toMatchObject({ code: 0 });
  expect(Object.keys(readUsersFile(path.join(dir, 'other.json')).users)).toEqual(['bob']);
});

it('commands run at once take turns on the file: no change is lost', async () => {
  const names = Array.from({ length: 8 }, (_, index) => `user${index}`);
  const results = await Promise.all(names.map((name) => ddb(['user', 'add', name, '--role', 'reader', '--password-stdin'], `${name}-secret`)));
  expect(results.map((result) => result.code)).toEqual(names.map(() => 0));
  expect(Object.keys(readUsersFile(users_file).users).sort()).toEqual(names);
  expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'users.json']);
});
