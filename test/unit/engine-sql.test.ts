/** The `sql` command and query(): results, ddb's database statements, params, the sandbox. */
import type { ApplyResult, SqlParams } from '../../database/commands';
import { Engine } from '../../database/engine';

import { FIXED_CONTEXT as CONTEXT, thrownCode } from '../support/engine';

let engine: Engine;
beforeEach(() => {
  engine = new Engine();
});
afterEach(() => engine.close());

function run(script: string, options: { db_name?: string | null; params?: SqlParams } = {}): ApplyResult {
  return engine.apply({ type: 'sql', db_name: options.db_name ?? null, script, params: options.params }, CONTEXT);
}

function ok(script: string, options: { db_name?: string | null; params?: SqlParams } = {}): unknown {
  const result = run(script, options);
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

function codeOf(result: ApplyResult): string {
  return result.ok ? 'OK' : result.error.code;
}

const SEED_004 = [
  'CREATE DATABASE SnapDB',
  'USE SnapDB',
  'CREATE TABLE Users (id INTEGER, name TEXT)',
  "INSERT INTO Users VALUES (1, 'Alice')",
  'SELECT * FROM Users',
  "UPDATE Users SET name = 'Bob' WHERE id = 1",
  'DELETE FROM Users WHERE id = 1',
  'DROP DATABASE SnapDB',
];

describe('results', () => {
  test('a statement that returns rows gives columns and rows; others give changes', () => {
    expect(ok('CREATE TABLE t (a, b)')).toEqual({ changes: 0, last_insert_rowid: 0 });
    expect(ok("INSERT INTO t VALUES (1, 'x'), (2, 'y')")).toEqual({ changes: 2, last_insert_rowid: 2 });
    expect(ok('SELECT a, b FROM t ORDER BY a')).toEqual({ columns: ['a', 'b'], rows: [[1, 'x'], [2, 'y']] });
    expect(ok("INSERT INTO t VALUES (3, 'z') RETURNING a")).toEqual({ columns: ['a'], rows: [[3]] });
  });

  test('several statements give {results}', () => {
    expect(ok('CREATE TABLE t (a); INSERT INTO t VALUES (1); SELECT count(*) AS n FROM t')).toEqual({
      results: [
        { changes: 0, last_insert_rowid: 0 },
        { changes: 1, last_insert_rowid: 1 },
        { columns: ['n'], rows: [[1]] },
      ],
    });
  });

  test('last_insert_rowid is the rowid of the last row the statement inserted, 0 when it inserted none', () => {
    expect(ok('CREATE TABLE t (a); INSERT INTO t VALUES (1), (2)')).toEqual({
      results: [
        { changes: 0, last_insert_rowid: 0 },
        { changes: 2, last_insert_rowid: 2 },
      ],
    });
    // SQLite's last_insert_rowid() still says 2 after each of these: none of them inserted.
    expect(ok('CREATE TABLE u (b)')).toEqual({ changes: 0, last_insert_rowid: 0 });
    expect(ok('UPDATE t SET a = a + 10')).toEqual({ changes: 2, last_insert_rowid: 0 });
    expect(ok('DELETE FROM t WHERE a = 11')).toEqual({ changes: 1, last_insert_rowid: 0 });
    expect(ok('CREATE INDEX i ON t (a); DROP TABLE u; SELECT 1 AS one')).toEqual({
      results: [{ changes: 0, last_insert_rowid: 0 }, { changes: 0, last_insert_rowid: 0 }, { columns: ['one'], rows: [[1]] }],
    });
    ok('CREATE TABLE k (id INTEGER PRIMARY KEY, v)');
    expect(ok('INSERT INTO k VALUES (5, 1)')).toEqual({ changes: 1, last_insert_rowid: 5 });
    expect(ok('INSERT OR IGNORE INTO k VALUES (5, 2)')).toEqual({ changes: 0, last_insert_rowid: 0 });
    expect(ok('REPLACE INTO k VALUES (5, 3)')).toEqual({ changes: 1, last_insert_rowid: 5 });
    expect(ok('WITH x(id) AS (SELECT 9) INSERT INTO k (id) SELECT id FROM x')).toEqual({ changes: 1, last_insert_rowid: 9 });
    expect(ok("INSERT INTO k VALUES (7, 'new') ON CONFLICT (id) DO UPDATE SET v = excluded.v")).toEqual({ changes: 1, last_insert_rowid: 7 });
  });

  test('last_insert_rowid does not depend on what the connection did before: a restored node reports the same', () => {
    ok('CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (41)');
    const restored = new Engine();
    restored.restore(engine.snapshot());
    const script = 'CREATE TABLE u (a); UPDATE t SET id = id; DELETE FROM t WHERE id = 0';
    const expected = {
      results: [
        { changes: 0, last_insert_rowid: 0 },
        { changes: 1, last_insert_rowid: 0 },
        { changes: 0, last_insert_rowid: 0 },
      ],
    };
    expect(ok(script)).toEqual(expected);
    expect(restored.apply({ type: 'sql', db_name: null, script }, CONTEXT)).toEqual({ ok: true, value: expected });
    restored.close();
  });

  test('large integers come back exact as text; blobs as base64', () => {
    expect(ok("SELECT 9223372036854775807 AS big, 42 AS small, x'00ff' AS bytes, 1.5 AS real")).toEqual({
      columns: ['big', 'small', 'bytes', 'real'],
      rows: [['9223372036854775807', 42, 'AP8=', 1.5]],
    });
  });

  test('SQLite errors are SQL_ERROR with its message', () => {
    expect(run('SELECT * FROM nowhere')).toEqual({
      ok: false,
      error: { code: 'SQL_ERROR', message: 'no such table: nowhere', details: { sqlite_code: 'SQLITE_ERROR' } },
    });
    expect(codeOf(run('SELEC 1'))).toBe('SQL_ERROR');
  });

  test('the error of a script of several statements names the one that failed, counted from 0', () => {
    expect(run('CREATE TABLE t (a); INSERT INTO t VALUES (1); INSERT INTO nowhere VALUES (2); SELECT 1')).toEqual({
      ok: false,
      error: {
        code: 'SQL_ERROR',
        message: 'statement 2: no such table: nowhere',
        details: { sqlite_code: 'SQLITE_ERROR', statement_index: 2 },
      },
    });
    expect(run('SELECT 1; USE nowhere')).toEqual({
      ok: false,
      error: { code: 'DATABASE_NOT_FOUND', message: 'statement 1: database nowhere does not exist', details: { statement_index: 1 } },
    });
    expect(run('SELECT 1; SELECT 2; VACUUM')).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN_STATEMENT', message: expect.stringMatching(/^statement 2: /), details: { statement_index: 2 } },
    });
    expect(run("CREATE TABLE u (a UNIQUE); INSERT INTO u VALUES (1), (1)")).toMatchObject({
      ok: false,
      error: { details: { sqlite_code: 'SQLITE_CONSTRAINT_UNIQUE', statement_index: 1 } },
    });
  });

  test('a read names the failing statement too', () => {
    let thrown: unknown;
    try {
      engine.query(null, 'SELECT 1; SELECT * FROM nowhere');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      code: 'SQL_ERROR',
      message: 'statement 1: no such table: nowhere',
      details: { sqlite_code: 'SQLITE_ERROR', statement_index: 1 },
    });
  });
});

describe('params', () => {
  beforeEach(() => ok('CREATE TABLE t (a, b)'));

  test('positional and named parameters; integers stay integers', () => {
    ok('INSERT INTO t VALUES (?, ?)', { params: [1, true] });
    ok('INSERT INTO t VALUES (:a, @b)', { params: { a: 2.5, '@b': 'x' } });
    expect(ok('SELECT a, typeof(a), b FROM t ORDER BY a')).toEqual({
      columns: ['a', 'typeof(a)', 'b'],
      rows: [
        [1, 'integer', 1],
        [2.5, 'real', 'x'],
      ],
    });
  });

  test('params with several statements is INVALID_REQUEST', () => {
    expect(codeOf(run('SELECT ?; SELECT ?', { params: [1] }))).toBe('INVALID_REQUEST');
  });

  test('missing or surplus parameters are SQL_ERROR', () => {
    expect(codeOf(run('SELECT ?, ?', { params: [1] }))).toBe('SQL_ERROR');
    expect(codeOf(run('SELECT :a', { params: {} }))).toBe('SQL_ERROR');
  });

  test('a non-scalar parameter is INVALID_REQUEST', () => {
    expect(codeOf(run('SELECT ?', { params: [{ a: 1 }] as unknown as SqlParams }))).toBe('INVALID_REQUEST');
  });
});

describe('databases in SQL', () => {
  test('seed 004 as one script: runs, and leaves no SnapDB and main the default', () => {
    const value = ok(SEED_004.join(';\n') + ';') as { results: unknown[] };
    expect(value.results).toHaveLength(8);
    expect(value.results[4]).toEqual({ columns: ['id', 'name'], rows: [[1, 'Alice']] });
    expect(engine.listDatabases()).toEqual(['main']);
    expect(engine.defaultDatabase()).toBe('main');
  });

  test('seed 004 statement by statement: a USE alone switches nothing after its own script', () => {
    const results = SEED_004.map((statement) => run(statement));
    expect(results.map(codeOf)).toEqual(Array(8).fill('OK'));
    expect(engine.listDatabases()).toEqual(['main']);
    // USE SnapDB ended with its own script, so Users went to main.
    expect(engine.select('main', 'Users').count).toBe(0);
  });

  test('USE lasts for the rest of its own script only; the default database stays', () => {
    ok('CREATE DATABASE SnapDB; USE SnapDB; CREATE TABLE Users (id INTEGER, name TEXT)');
    expect(engine.defaultDatabase()).toBe('main');
    expect(engine.select('SnapDB', 'Users').count).toBe(0);
    expect(thrownCode(() => engine.select(null, 'Users'))).toBe('TABLE_NOT_FOUND');
    ok('USE SnapDB');
    expect(engine.defaultDatabase()).toBe('main');
    expect(ok('SHOW TABLES')).toEqual({ columns: ['name'], rows: [] });
  });

  test('CREATE DATABASE: exists is DATABASE_EXISTS unless IF NOT EXISTS; bad name INVALID_REQUEST', () => {
    ok('CREATE DATABASE d');
    expect(codeOf(run('CREATE DATABASE D'))).toBe('DATABASE_EXISTS');
    expect(codeOf(run('CREATE DATABASE IF NOT EXISTS d'))).toBe('OK');
    expect(codeOf(run('CREATE DATABASE "bad name"'))).toBe('INVALID_REQUEST');
    expect(codeOf(run('CREATE DATABASE'))).toBe('SQL_ERROR');
    expect(codeOf(run('CREATE DATABASE a b'))).toBe('SQL_ERROR');
  });

  test('DROP DATABASE: missing is DATABASE_NOT_FOUND unless IF EXISTS; main cannot be dropped', () => {
    expect(codeOf(run('DROP DATABASE d'))).toBe('DATABASE_NOT_FOUND');
    expect(codeOf(run('DROP DATABASE IF EXISTS d'))).toBe('OK');
    expect(run('DROP DATABASE Main')).toEqual({
      ok: false,
      error: { code: 'SQL_ERROR', message: 'database main cannot be dropped' },
    });
  });

  test('dropping the default database makes main the default', () => {
    engine.apply({ type: 'init_database', db_name: 'd' }, CONTEXT);
    expect(engine.defaultDatabase()).toBe('d');
    ok('DROP DATABASE d');
    expect(engine.defaultDatabase()).toBe('main');
  });

  test('after dropping the database in use, statements need a USE', () => {
    ok('CREATE DATABASE d');
    expect(codeOf(run('USE d; DROP DATABASE d; CREATE TABLE t (a)'))).toBe('DATABASE_NOT_FOUND');
    expect(engine.listDatabases()).toEqual(['d', 'main']);
    expect(codeOf(run('USE d; DROP DATABASE d; USE main; CREATE TABLE t (a)'))).toBe('OK');
    expect(engine.listDatabases()).toEqual(['main']);
  });

  test('USE of a missing database is DATABASE_NOT_FOUND', () => {
    expect(codeOf(run('USE nowhere'))).toBe('DATABASE_NOT_FOUND');
  });

  test('db_name picks the database a script starts in', () => {
    ok('CREATE DATABASE d');
    ok('CREATE TABLE t (a)', { db_name: 'd' });
    expect(ok('SHOW TABLES', { db_name: 'D' })).toEqual({ columns: ['name'], rows: [['t']] });
    expect(ok('SHOW TABLES')).toEqual({ columns: ['name'], rows: [] });
    expect(codeOf(run('SELECT 1', { db_name: 'nowhere' }))).toBe('DATABASE_NOT_FOUND');
  });

  test('SHOW DATABASES and SHOW TABLES', () => {
    ok('CREATE DATABASE Zed; CREATE DATABASE alpha; CREATE TABLE b (x); CREATE TABLE a (x); CREATE VIEW v AS SELECT 1');
    expect(ok('SHOW DATABASES')).toEqual({ columns: ['name'], rows: [['alpha'], ['main'], ['Zed']] });
    expect(ok('SHOW TABLES')).toEqual({ columns: ['name'], rows: [['a'], ['b']] });
    expect(codeOf(run('SHOW COLUMNS'))).toBe('SQL_ERROR');
  });

  test('a transaction statement in a script is FORBIDDEN_STATEMENT', () => {
    expect(codeOf(run('BEGIN; CREATE TABLE t (a); COMMIT'))).toBe('FORBIDDEN_STATEMENT');
  });

  test('the sandbox is enforced by apply', () => {
    expect(codeOf(run("ATTACH DATABASE '/tmp/x.db' AS x"))).toBe('FORBIDDEN_STATEMENT');
    expect(codeOf(run('PRAGMA foreign_keys = OFF'))).toBe('FORBIDDEN_STATEMENT');
    expect(codeOf(run('VACUUM'))).toBe('FORBIDDEN_STATEMENT');
    expect(codeOf(run("SELECT load_extension('x')"))).toBe('FORBIDDEN_STATEMENT');
    expect(codeOf(run(''))).toBe('INVALID_REQUEST');
  });

  test('allowed pragmas run', () => {
    ok('CREATE TABLE t (a PRIMARY KEY)');
    expect(ok('PRAGMA user_version')).toEqual({ columns: ['user_version'], rows: [[0]] });
    expect(ok('PRAGMA integrity_check')).toEqual({ columns: ['integrity_check'], rows: [['ok']] });
  });
});

describe('TEMP objects and counters', () => {
  test('TEMP objects live for one script', () => {
    expect(ok('CREATE TEMP TABLE scratch (a); INSERT INTO scratch VALUES (1); SELECT a FROM scratch')).toEqual({
      results: [{ changes: 0, last_insert_rowid: 0 }, { changes: 1, last_insert_rowid: 1 }, { columns: ['a'], rows: [[1]] }],
    });
    expect(codeOf(run('SELECT * FROM scratch'))).toBe('SQL_ERROR');
    expect(ok('SELECT count(*) FROM sqlite_temp_schema')).toEqual({ columns: ['count(*)'], rows: [[0]] });
  });

  test('total_changes() is refused: it depends on the node', () => {
    expect(run('SELECT total_changes()')).toEqual({
      ok: false,
      error: { code: 'SQL_ERROR', message: expect.stringMatching(/total_changes/) },
    });
  });
});

describe('query()', () => {
  beforeEach(() => ok("CREATE TABLE t (a); INSERT INTO t VALUES (1), (2)"));

  test('runs read scripts with params', () => {
    expect(engine.query(null, 'SELECT a FROM t WHERE a > ?', [1])).toEqual({ columns: ['a'], rows: [[2]] });
    expect(engine.query(null, 'SELECT 1 AS x; SHOW TABLES; SHOW DATABASES')).toEqual({
      results: [
        { columns: ['x'], rows: [[1]] },
        { columns: ['name'], rows: [['t']] },
        { columns: ['name'], rows: [['main']] },
      ],
    });
  });

  test('refuses writes with INVALID_REQUEST and changes nothing', () => {
    const before = engine.serializeDatabase(null);
    expect(thrownCode(() => engine.query(null, 'INSERT INTO t VALUES (3)'))).toBe('INVALID_REQUEST');
    expect(thrownCode(() => engine.query(null, 'SELECT 1; DELETE FROM t'))).toBe('INVALID_REQUEST');
    expect(thrownCode(() => engine.query(null, 'WITH x AS (SELECT 1) DELETE FROM t'))).toBe('INVALID_REQUEST');
    expect(Buffer.compare(Buffer.from(engine.serializeDatabase(null)), Buffer.from(before))).toBe(0);
  });

  test('USE switches the database a read runs in, for the rest of the script only', () => {
    ok('CREATE DATABASE d; USE d; CREATE TABLE u (b); INSERT INTO u VALUES (7)');
    expect(engine.query(null, 'USE d; SELECT b FROM u; USE main; SELECT a FROM t ORDER BY a')).toEqual({
      results: [
        { changes: 0, last_insert_rowid: 0 },
        { columns: ['b'], rows: [[7]] },
        { changes: 0, last_insert_rowid: 0 },
        { columns: ['a'], rows: [[1], [2]] },
      ],
    });
    expect(engine.query(null, 'USE d; SHOW TABLES')).toEqual({
      results: [{ changes: 0, last_insert_rowid: 0 }, { columns: ['name'], rows: [['u']] }],
    });
    expect(engine.defaultDatabase()).toBe('main');
    expect(thrownCode(() => engine.query(null, 'USE nowhere; SELECT 1'))).toBe('DATABASE_NOT_FOUND');
    expect(thrownCode(() => engine.query(null, 'USE d; INSERT INTO u VALUES (8)'))).toBe('INVALID_REQUEST');
    expect(engine.select('d', 'u').count).toBe(1);
  });

  test('EXPLAIN of a write is a write (it goes through the log), and there it only explains', () => {
    expect(thrownCode(() => engine.query(null, 'EXPLAIN INSERT INTO t VALUES (3)'))).toBe('INVALID_REQUEST');
    const plan = ok('EXPLAIN INSERT INTO t VALUES (3)') as { rows: unknown[] };
    expect(plan.rows.length).toBeGreaterThan(0);
    expect(engine.select(null, 't').count).toBe(2);
    expect((engine.query(null, 'EXPLAIN QUERY PLAN SELECT * FROM t') as { rows: unknown[] }).rows.length).toBeGreaterThan(0);
  });

  test('sandbox, empty, unknown database and SQL errors', () => {
    expect(thrownCode(() => engine.query(null, 'PRAGMA journal_mode'))).toBe('FORBIDDEN_STATEMENT');
    expect(thrownCode(() => engine.query(null, "SELECT * FROM pragma_optimize"))).toBe('FORBIDDEN_STATEMENT');
    expect(thrownCode(() => engine.query(null, '  '))).toBe('INVALID_REQUEST');
    expect(thrownCode(() => engine.query('nowhere', 'SELECT 1'))).toBe('DATABASE_NOT_FOUND');
    expect(thrownCode(() => engine.query(null, 'SELECT * FROM nowhere'))).toBe('SQL_ERROR');
    expect(thrownCode(() => engine.query(null, 'SELECT ?; SELECT ?', [1]))).toBe('INVALID_REQUEST');
  });

  test('uses the real clock and real randomness', () => {
    const { rows } = engine.query(null, "SELECT unixepoch('now'), random(), random()") as { rows: number[][] };
    expect(Math.abs(Number(rows[0][0]) - Date.now() / 1000)).toBeLessThan(5);
    expect(rows[0][1]).not.toEqual(rows[0][2]);
  });
});
