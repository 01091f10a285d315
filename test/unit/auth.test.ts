/** src/auth: the users file, password hashes, tokens, access decisions, the verification cache and reloading. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { allows, checkAccess, needOfCommand, needOfSql } from '../../src/auth/access';
import { Authenticator } from '../../src/auth/authenticator';
import * as passwordHash from '../../src/auth/password-hash';
import { hashPassword, parseHash, verifyPassword } from '../../src/auth/password-hash';
import { newToken, tokenId, tokenMatches } from '../../src/auth/tokens';
import { parseUsers, readUsersFile, type UserEntry } from '../../src/auth/users-file';
import { VerificationCache } from '../../src/auth/verification-cache';
import { ConfigError } from '../../utils/config-error';
import { DdbError } from '../../utils/errors';
import { createSilentLogger, type Logger } from '../../utils/logger';
import { CHEAP_SCRYPT, writeTestUsers } from '../support/users';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-auth-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('password hashes', () => {
  it('verifies the password it was made from and nothing else; salts differ', async () => {
    const hash = await hashPassword('secret', CHEAP_SCRYPT);
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(hash).not.toContain('secret');
    expect(await verifyPassword('secret', hash)).toBe(true);
    expect(await verifyPassword('Secret', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
    expect(await hashPassword('secret', CHEAP_SCRYPT)).not.toBe(hash);
  });

  it('keeps its parameters in the string and refuses malformed or excessive ones', async () => {
    expect(parseHash(await hashPassword('x', { N: 2048, r: 4, p: 2 }))).toMatchObject({ N: 2048, r: 4, p: 2 });
    expect(typeof parseHash('plaintext')).toBe('string');
    expect(parseHash('scrypt$1000$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5')).toMatch(/power of 2/);
    expect(parseHash(`scrypt$${2 ** 24}$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5`)).toMatch(/power of 2/);
    expect(await verifyPassword('x', 'scrypt$nonsense')).toBe(false);
  });
});

describe('tokens', () => {
  it('are ddb_<id>_<secret>, stored as a sha256 that matches only the token', () => {
    const { token, stored } = newToken();
    expect(token).toMatch(/^ddb_[a-z0-9]+_[A-Za-z0-9_-]{43}$/);
    expect(tokenId(token)).toBe(stored.id);
    expect(stored.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(token.split('_')[2]);
    expect(tokenMatches(token, stored)).toBe(true);
    expect(tokenMatches(newToken().token, stored)).toBe(false);
    expect(tokenId('ddb_short')).toBeNull();
  });
});

describe('the users file', () => {
  const hash = 'scrypt$1024$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=';
  const refused = (raw: unknown) => {
    try {
      parseUsers(raw, 'users.json');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('accepts the documented form', () => {
    const file = { users: { alice: { password: hash, role: 'writer', databases: ['shop'], tokens: [{ id: 'abcdef012345', sha256: 'a'.repeat(64) }] }, root: { password: hash, role: 'admin' } } };
    expect(parseUsers(file, 'users.json')).toEqual(file);
  });

  it('refuses bad files with a message naming the file and the key', () => {
    expect(refused({})).toMatch(/users\.json.*missing key 'users'/);
    expect(refused({ users: {}, extra: 1 })).toMatch(/unknown key 'extra'/);
    expect(refused({ users: { alice: { password: hash, role: 'owner' } } })).toMatch(/\/users\/alice\/role must be equal to one of the allowed values/);
    expect(refused({ users: { alice: { password: 'hunter2', role: 'reader' } } })).toMatch(/\/users\/alice\/password is not a password hash.*never the password itself/);
    expect(refused({ users: { alice: { password: hash } } })).toMatch(/missing key 'role' at \/users\/alice/);
    expect(refused({ users: { 'al:ice': { password: hash, role: 'reader' } } })).toMatch(/user name 'al:ice'/);
    expect(refused({ users: { alice: { password: hash, role: 'reader', databases: ['no-dash'] } } })).toMatch(/\/users\/alice\/databases\/0/);
    expect(refused({ users: { alice: { password: hash, role: 'reader', colour: 'red' } } })).toMatch(/unknown key 'colour' at \/users\/alice/);
    const token = { id: 'abcdef012345', sha256: 'a'.repeat(64) };
    expect(refused({ users: { a: { role: 'reader', tokens: [token] }, b: { role: 'reader', tokens: [token] } } })).toMatch(/token id abcdef012345 appears twice/);
    expect(refused({ users: { alice: { password: 'scrypt$3$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5', role: 'reader' } } })).toMatch(/\/users\/alice\/password has N=3/);
  });

  it('says how to make a missing file, and names a file that is not JSON', () => {
    expect(() => readUsersFile(path.join(dir, 'none.json'))).toThrow(/does not exist; make it with `ddb user add/);
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"users": ');
    expect(() => readUsersFile(path.join(dir, 'bad.json'))).toThrow(/bad\.json is not valid JSON/);
  });
});

describe('access decisions', () => {
  const reader: UserEntry = { role: 'reader' };
  const writer: UserEntry = { role: 'writer' };
  const admin: UserEntry = { role: 'admin' };
  const shopAdmin: UserEntry = { role: 'admin', databases: ['shop'] };

  it('maps each command and SQL script to the role it needs', () => {
    const insert = { type: 'insert' as const, db_name: null, table_name: 't', row_id: '1', data: {} };
    expect(needOfCommand(insert, 'main')).toEqual({ role: 'writer', databases: ['main'] });
    expect(needOfCommand({ type: 'init_database', db_name: 'x' }, 'main')).toEqual({ role: 'admin', databases: ['x'] });
    expect(needOfCommand({ type: 'drop_table', db_name: 'shop', table_name: 't' }, 'main')).toEqual({ role: 'admin', databases: ['shop'] });
    expect(needOfSql('SELECT 1', 'main')).toEqual({ role: 'reader', databases: ['main'] });
    expect(needOfSql('INSERT INTO t VALUES (1)', 'main')).toEqual({ role: 'writer', databases: ['main'] });
    expect(needOfSql('CREATE TABLE t (a)', 'main')).toEqual({ role: 'admin', databases: ['main'] });
    expect(needOfSql('USE shop; SELECT 1', 'main')).toEqual({ role: 'reader', databases: ['main', 'shop'] });
    expect(needOfSql('CREATE DATABASE x; USE x; CREATE TABLE t (a)', 'shop')).toEqual({ role: 'admin', databases: ['shop', 'x'] });
  });

  it('lets each role do its own and weaker things, a grant only on its databases, cluster things only unrestricted admins', () => {
    const read = { role: 'reader' as const, databases: ['shop'] };
    const write = { role: 'writer' as const, databases: ['shop'] };
    const ddl = { role: 'admin' as const, databases: ['shop'] };
    const cluster = { role: 'admin' as const, cluster: true as const };
    expect([reader, writer, admin].map((entry) => [read, write, ddl].map((need) => allows(entry, need)))).toEqual([
      [true, false, false],
      [true, true, false],
      [true, true, true],
    ]);
    expect(allows(shopAdmin, ddl)).toBe(true);
    expect(allows(shopAdmin, { role: 'reader', databases: ['other'] })).toBe(false);
    expect(allows(shopAdmin, { role: 'reader', databases: ['shop', 'other'] })).toBe(false);
    expect(allows(shopAdmin, cluster)).toBe(false);
    expect(allows(admin, cluster)).toBe(true);
    expect(allows(writer, cluster)).toBe(false);
    expect(allows(reader, { any_user: true })).toBe(true);
  });

  it('refuses with FORBIDDEN saying what was needed', () => {
    let error: unknown;
    try {
      checkAccess('bob', { role: 'reader' }, { role: 'writer', databases: ['shop'] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DdbError);
    expect((error as DdbError).status).toBe(403);
    expect((error as DdbError).message).toBe("user 'bob' (reader) may not do this: it needs writer on database 'shop'");
  });
});

describe('the verification cache', () => {
  it('remembers a user, password and hash together, bounded, oldest out first', () => {
    const cache = new VerificationCache(2);
    cache.remember('a', 'pw', 'h1');
    expect(cache.has('a', 'pw', 'h1')).toBe(true);
    expect(cache.has('a', 'pw', 'h2')).toBe(false);
    expect(cache.has('a', 'other', 'h1')).toBe(false);
    expect(cache.has('ap', 'w', 'h1')).toBe(false);
    cache.remember('b', 'pw', 'h1');
    cache.remember('c', 'pw', 'h1');
    expect(cache.size).toBe(2);
    expect(cache.has('a', 'pw', 'h1')).toBe(false);
    cache.clear();
    expect(cache.has('c', 'pw', 'h1')).toBe(false);
  });
});

describe('the authenticator', () => {
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const code = async (promise: Promise<unknown>) => promise.then(() => 'ok', (error: DdbError) => `${error.status} ${error.code}`);
  let clock = 0;
  const lines: string[] = [];
  const logger = { ...createSilentLogger(), error: (message: string) => lines.push(message), info: () => undefined } as unknown as Logger;

  async function start(): Promise<{ access: Authenticator; file: string; tokens: Map<string, string[]> }> {
    const file = path.join(dir, 'users.json');
    const tokens = await writeTestUsers(file, { alice: { password: 'a', role: 'writer', tokens: 1 }, bob: { password: 'b', role: 'reader' } });
    clock = 0;
    lines.length = 0;
    return { access: new Authenticator({ users_file: file, logger, now: () => clock }), file, tokens };
  }

  it('accepts Basic and bearer credentials and refuses the rest with 401', async () => {
    const { access, tokens } = await start();
    expect(await access.authenticate(basic('alice', 'a'))).toBe('alice');
    expect(await access.authenticate(`Bearer ${tokens.get('alice')?.[0]}`)).toBe('alice');
    for (const header of [undefined, '', basic('alice', 'b'), basic('carol', 'a'), 'Basic !!!', `Bearer ${newToken().token}`, 'Bearer junk', 'Digest x']) {
      expect(await code(access.authenticate(header))).toBe('401 UNAUTHENTICATED');
    }
  });

  it('caches successful checks only, and drops them when the file changes', async () => {
    const { access, file } = await start();
    await access.authenticate(basic('alice', 'a'));
    await code(access.authenticate(basic('alice', 'wrong')));
    expect(access.cached_verifications).toBe(1);
    await writeTestUsers(file, { alice: { password: 'new', role: 'writer' } });
    clock += 500;
    // Within the second the old file still holds: no stat per request.
    expect(await access.authenticate(basic('alice', 'a'))).toBe('alice');
    clock += 600;
    expect(await code(access.authenticate(basic('alice', 'a')))).toBe('401 UNAUTHENTICATED');
    expect(access.cached_verifications).toBe(0);
    expect(await access.authenticate(basic('alice', 'new'))).toBe('alice');
    expect(await code(access.authenticate(basic('bob', 'b')))).toBe('401 UNAUTHENTICATED');
  });

  it('runs one scrypt for a burst of requests with the same new credentials, then none', async () => {
    const { access } = await start();
    const spy = jest.spyOn(passwordHash, 'verifyPassword');
    try {
      const users = await Promise.all(Array.from({ length: 20 }, () => access.authenticate(basic('alice', 'a'))));
      expect(users).toEqual(Array(20).fill('alice'));
      expect(spy).toHaveBeenCalledTimes(1);
      await access.authenticate(basic('alice', 'a'));
      expect(spy).toHaveBeenCalledTimes(1);
      // Wrong passwords are never remembered: each costs a check.
      await code(access.authenticate(basic('alice', 'x')));
      await code(access.authenticate(basic('alice', 'x')));
      expect(spy).toHaveBeenCalledTimes(3);
    } finally {
      spy.mockRestore();
    }
  });

  it('keeps the old users when the file turns invalid, logging the error once', async () => {
    const { access, file } = await start();
    fs.writeFileSync(file, '{"users": {"alice": {"role": "god"}}}');
    for (let step = 0; step < 3; step++) {
      clock += 1100;
      expect(await access.authenticate(basic('alice', 'a'))).toBe('alice');
      fs.utimesSync(file, new Date(), new Date(Date.now() + step * 1000 + 5000));
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/users\.json.*\/users\/alice\/role.*keeping the users read before/);
  });

  it('authorizes by role, and the master refuses forwarded writes of unknown, anonymous or too-weak users', async () => {
    const { access } = await start();
    const insert = { type: 'insert' as const, db_name: null, table_name: 't', row_id: '1', data: {} };
    expect(() => access.authorizeForwarded('alice', insert, 'main')).not.toThrow();
    expect(() => access.authorizeForwarded('bob', insert, 'main')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => access.authorizeForwarded('carol', insert, 'main')).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => access.authorizeForwarded(null, insert, 'main')).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
  });
});
