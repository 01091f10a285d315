/**
 * The role matrix: every public endpoint × every kind of caller (none, a wrong
 * password, an unknown user, reader, writer, admin, a writer granted only
 * another database, a valid bearer token, a revoked one) → the expected
 * status, with the contract's error shape; and after each refusal the node's
 * state (applied index, state hash and every row of every database) is what
 * it was before. Allowed writes must change that state, so the comparison can
 * fail.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Test } from 'supertest';
import { newToken } from '../../src/auth/tokens';
import { startSingleNode, type TestNode } from '../support/single-node';
import { writeTestUsers } from '../support/users';

type Identity = 'none' | 'wrong_password' | 'unknown_user' | 'reader' | 'writer' | 'admin' | 'shop_writer' | 'token' | 'revoked_token';
const IDENTITIES: Identity[] = ['none', 'wrong_password', 'unknown_user', 'reader', 'writer', 'admin', 'shop_writer', 'token', 'revoked_token'];
type Need = 'open' | 'any_user' | 'reader' | 'writer' | 'admin';

interface Case {
  name: string;
  need: Need;
  /** The database the request acts on (for the grant); every case names it. */
  db: 'other' | 'shop';
  success: number;
  /** Whether an allowed request changes the state (a write). */
  writes: boolean;
  /** What the request needs to exist first, done as admin before the snapshot. */
  setup?: (app: TestNode['app'], n: number) => Promise<void>;
  /** Made fresh for each request. */
  send: (app: TestNode['app'], n: number) => Test;
}

let dir: string;
let test_node: TestNode;
let tokens: Map<string, string[]>;
let counter = 0;

const PASSWORDS = { reader: 'r-secret', writer: 'w-secret', admin: 'a-secret', shop_writer: 's-secret' } as const;

function withIdentity(test: Test, identity: Identity): Test {
  switch (identity) {
    case 'none':
      return test;
    case 'wrong_password':
      return test.auth('admin', 'not-the-password');
    case 'unknown_user':
      return test.auth('mallory', 'a-secret');
    case 'token':
      return test.set('Authorization', `Bearer ${tokens.get('writer')?.[0]}`);
    case 'revoked_token':
      // A token of the right shape whose digest the file no longer holds.
      return test.set('Authorization', `Bearer ${newToken().token}`);
    default:
      return test.auth(identity, PASSWORDS[identity]);
  }
}

const admin = (test: Test) => test.auth('admin', PASSWORDS.admin);

async function prepare(test: Test): Promise<void> {
  const response = await admin(test);
  if (response.status >= 300) throw new Error(`preparation failed: ${response.status} ${response.text}`);
}

function rowCases(db: 'other' | 'shop'): Case[] {
  const table = db === 'shop' ? 'items' : 'o';
  return [
    { name: `GET /select ${db}`, need: 'reader', db, success: 200, writes: false, send: (app) => request(app).get(`/select?table=${table}&db=${db}`) },
    { name: `GET /search ${db}`, need: 'reader', db, success: 200, writes: false, send: (app) => request(app).get(`/search?table=${table}&column=a&value=1&db=${db}`) },
    { name: `POST /insert ${db}`, need: 'writer', db, success: 201, writes: true, send: (app, n) => request(app).post('/insert').send({ db_name: db, table_name: table, row_id: `new${n}`, data: { a: n } }) },
    {
      name: `POST /update ${db}`, need: 'writer', db, success: 200, writes: true,
      send: (app, n) => request(app).post('/update').send({ db_name: db, table_name: table, row_id: '1', new_data: { a: `u${n}` } }),
    },
    {
      name: `POST /delete_record ${db}`, need: 'writer', db, success: 200, writes: true,
      setup: (app, n) => prepare(request(app).post('/insert').send({ db_name: db, table_name: table, row_id: `gone${n}`, data: { a: n } })),
      send: (app, n) => request(app).post('/delete_record').send({ db_name: db, table_name: table, row_id: `gone${n}` }),
    },
    { name: `POST /create_table ${db}`, need: 'admin', db, success: 201, writes: true, send: (app, n) => request(app).post('/create_table').send({ db_name: db, table_name: `made${n}`, columns: ['a'] }) },
    {
      name: `POST /delete_table ${db}`, need: 'admin', db, success: 200, writes: true,
      setup: (app, n) => prepare(request(app).post('/create_table').send({ db_name: db, table_name: `drop${n}`, columns: ['a'] })),
      send: (app, n) => request(app).post('/delete_table').send({ db_name: db, table_name: `drop${n}` }),
    },
    { name: `POST /query read ${db}`, need: 'reader', db, success: 200, writes: false, send: (app) => request(app).post('/query').send({ db_name: db, query: `SELECT * FROM ${table}` }) },
    { name: `POST /query write ${db}`, need: 'writer', db, success: 200, writes: true, send: (app, n) => request(app).post('/query').send({ db_name: db, query: `INSERT INTO ${table} (row_id, a) VALUES ('q${n}', 1)` }) },
    { name: `POST / write ${db}`, need: 'writer', db, success: 200, writes: true, send: (app, n) => request(app).post('/').send({ db_name: db, command: 'exec', query: `UPDATE ${table} SET a = ${n} WHERE row_id = '1'` }) },
    { name: `POST /query DDL ${db}`, need: 'admin', db, success: 200, writes: true, send: (app, n) => request(app).post('/query').send({ db_name: db, query: `CREATE INDEX ix${n} ON ${table} (a)` }) },
    { name: `POST /init_database ${db}`, need: 'admin', db, success: 200, writes: true, send: (app) => request(app).post('/init_database').send({ db_name: db }) },
  ];
}

const CASES: Case[] = [
  { name: 'GET /health', need: 'open', db: 'other', success: 200, writes: false, send: (app) => request(app).get('/health') },
  { name: 'GET /ready', need: 'open', db: 'other', success: 200, writes: false, send: (app) => request(app).get('/ready') },
  { name: 'GET /status', need: 'any_user', db: 'other', success: 200, writes: false, send: (app) => request(app).get('/status') },
  ...rowCases('other'),
  ...rowCases('shop'),
  // A script that starts in a granted database and USEs another needs rights on both.
  { name: 'POST /query USE other from shop', need: 'reader', db: 'other', success: 200, writes: false, send: (app) => request(app).post('/query').send({ db_name: 'shop', query: 'USE other; SELECT * FROM o' }) },
  { name: 'POST /query CREATE DATABASE', need: 'admin', db: 'other', success: 200, writes: true, send: (app, n) => request(app).post('/query').send({ db_name: 'shop', query: `CREATE DATABASE made${n}` }) },
  // No database named: the default one (main), which shop_writer has no grant on.
  { name: 'POST /insert default database', need: 'writer', db: 'other', success: 201, writes: true, send: (app, n) => request(app).post('/insert').send({ table_name: 't', row_id: `d${n}`, data: { a: 1 } }) },
  // Express routes ignore case and a trailing slash; the checks must see the same route.
  { name: 'GET /SELECT/', need: 'reader', db: 'other', success: 200, writes: false, send: (app) => request(app).get('/SELECT/?table=o&db=other') },
  { name: 'GET /Health/', need: 'open', db: 'other', success: 200, writes: false, send: (app) => request(app).get('/Health/') },
  { name: 'POST /Init_Database/', need: 'admin', db: 'other', success: 200, writes: true, send: (app) => request(app).post('/Init_Database/').send({ db_name: 'other' }) },
  { name: 'GET /nowhere', need: 'any_user', db: 'other', success: 404, writes: false, send: (app) => request(app).get('/nowhere') },
];

const RANK: Record<string, number> = { reader: 0, writer: 1, admin: 2 };

function expectedStatus(identity: Identity, item: Case): number {
  if (item.need === 'open') return item.success;
  if (['none', 'wrong_password', 'unknown_user', 'revoked_token'].includes(identity)) return 401;
  if (item.need === 'any_user') return item.success;
  const role = identity === 'token' ? 'writer' : identity === 'shop_writer' ? 'writer' : identity;
  if (RANK[role] < RANK[item.need]) return 403;
  if (identity === 'shop_writer' && item.db !== 'shop') return 403;
  return item.success;
}

/** Everything a refusal must leave alone. */
function snapshot(): string {
  const { node } = test_node;
  const status = node.status();
  const databases = node.engine.listDatabases();
  const content = databases.map((db) => {
    const schema = node.engine.query(db, 'SELECT type, name, sql FROM sqlite_schema ORDER BY name') as { rows: [string, string, string][] };
    const tables = schema.rows.filter(([type, name]) => type === 'table' && !name.startsWith('sqlite_'));
    return [db, schema.rows, tables.map(([, name]) => node.engine.query(db, `SELECT * FROM "${name}" ORDER BY 1`))];
  });
  return JSON.stringify({ applied_index: status.applied_index, state_hash: status.state_hash, default: node.engine.defaultDatabase(), content });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-roles-'));
  const users_file = path.join(dir, 'users.json');
  tokens = await writeTestUsers(users_file, {
    reader: { password: PASSWORDS.reader, role: 'reader' },
    writer: { password: PASSWORDS.writer, role: 'writer', tokens: 1 },
    admin: { password: PASSWORDS.admin, role: 'admin' },
    shop_writer: { password: PASSWORDS.shop_writer, role: 'writer', databases: ['shop'] },
  });
  test_node = await startSingleNode({ users_file });
  const { app } = test_node;
  await prepare(request(app).post('/query').send({ query: 'CREATE DATABASE shop; CREATE DATABASE other' }));
  await prepare(request(app).post('/create_table').send({ table_name: 't', columns: ['a'] }));
  await prepare(request(app).post('/create_table').send({ db_name: 'shop', table_name: 'items', columns: ['a'] }));
  await prepare(request(app).post('/create_table').send({ db_name: 'other', table_name: 'o', columns: ['a'] }));
  await prepare(request(app).post('/insert').send({ db_name: 'shop', table_name: 'items', row_id: '1', data: { a: 1 } }));
  await prepare(request(app).post('/insert').send({ db_name: 'other', table_name: 'o', row_id: '1', data: { a: 1 } }));
  // init_database makes its database the default; put main back so the default-database case means main.
  await prepare(request(app).post('/init_database').send({ db_name: 'main' }));
});

afterAll(() => {
  test_node?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.each(CASES)('$name', (item) => {
  it.each(IDENTITIES)('as %s', async (identity) => {
    const expected = expectedStatus(identity, item);
    const n = ++counter;
    await item.setup?.(test_node.app, n);
    const before = snapshot();
    const response = await withIdentity(item.send(test_node.app, n), identity);
    const after = snapshot();
    expect({ status: response.status, body: response.body }).toMatchObject({ status: expected });
    if (expected === 401 || expected === 403) {
      expect(response.body).toEqual({ error: { code: expected === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN', message: expect.any(String) } });
      if (expected === 401) expect(response.headers['www-authenticate']).toBe('Basic realm="ddb"');
      expect(after).toEqual(before);
    } else if (item.writes) {
      // The comparison above is not vacuous: an allowed write does change the snapshot.
      expect(after).not.toEqual(before);
    }
    // init_database moved the default; put it back for the cases that use it.
    if (item.name.toLowerCase().startsWith('post /init_database') && expected < 300) await prepare(request(test_node.app).post('/init_database').send({ db_name: 'main' }));
  });
});

describe('/init_database with credentials in the body (seed 003)', () => {
  const init = (body: object) => request(test_node.app).post('/init_database').send({ db_name: 'shop', host: 'localhost:3306', ...body });
  afterEach(async () => prepare(request(test_node.app).post('/init_database').send({ db_name: 'main' })));

  it('takes the body user and password as credentials when there is no Authorization header', async () => {
    expect((await init({ user: 'admin', password: PASSWORDS.admin })).status).toBe(200);
  });

  it('refuses a wrong password, missing credentials, and a user without admin, changing nothing', async () => {
    for (const [body, status] of [
      [{ user: 'admin', password: 'wrong' }, 401],
      [{}, 401],
      [{ user: 'admin' }, 401],
      [{ user: 'shop_writer', password: PASSWORDS.shop_writer }, 403],
      [{ user: 'reader', password: PASSWORDS.reader }, 403],
    ] as const) {
      const before = snapshot();
      const response = await init(body);
      expect({ body, status: response.status }).toEqual({ body, status });
      expect(snapshot()).toEqual(before);
    }
  });

  it('refuses a body user that is not the Authorization header user', async () => {
    const before = snapshot();
    const response = await init({ user: 'reader', password: PASSWORDS.reader }).auth('admin', PASSWORDS.admin);
    expect(response.status).toBe(401);
    expect(snapshot()).toEqual(before);
    expect((await init({ user: 'admin', password: 'anything' }).auth('admin', PASSWORDS.admin)).status).toBe(200);
  });
});
