/**
 * Issue 12: small requests with huge costs. Values the amplifying built-ins
 * make are bounded by value_size_max_bytes (400 VALUE_TOO_LARGE), a read's
 * answer by result_size_max_bytes (400 RESULT_TOO_LARGE), each database by
 * database_size_max_bytes (507 QUOTA_EXCEEDED), and the space DELETE frees
 * comes back.
 */
import type { ApplyResult } from '../../database/commands';
import { Engine } from '../../database/engine';
import { ENGINE_LIMITS_DEFAULT, type EngineLimits } from '../../database/limits';
import { FIXED_CONTEXT as CONTEXT, thrownCode } from '../support/engine';

const engines: Engine[] = [];
function engineWith(limits: Partial<EngineLimits> = {}): Engine {
  const engine = new Engine({ ...ENGINE_LIMITS_DEFAULT, ...limits });
  engines.push(engine);
  return engine;
}
afterEach(() => engines.splice(0).forEach((engine) => engine.close()));

function run(engine: Engine, script: string): ApplyResult {
  return engine.apply({ type: 'sql', db_name: null, script }, CONTEXT);
}
function codeOf(result: ApplyResult): string {
  return result.ok ? 'OK' : result.error.code;
}
function value(engine: Engine, expression: string): unknown {
  return (engine.query(null, `SELECT ${expression}`) as { rows: unknown[][] }).rows[0][0];
}
function pageCount(engine: Engine): number {
  return value(engine, '(SELECT page_count FROM pragma_page_count)') as number;
}

describe('value_size_max_bytes', () => {
  test('the findings: zeroblob of 200 MB in an insert, 450 and 400 MB in a select', () => {
    const engine = engineWith();
    expect(codeOf(run(engine, 'CREATE TABLE t (b)'))).toBe('OK');
    expect(codeOf(run(engine, 'INSERT INTO t VALUES (zeroblob(200000000))'))).toBe('VALUE_TOO_LARGE');
    expect(thrownCode(() => engine.query(null, 'SELECT zeroblob(450000000)'))).toBe('VALUE_TOO_LARGE');
    expect(thrownCode(() => engine.query(null, 'SELECT zeroblob(400000000)'))).toBe('VALUE_TOO_LARGE');
    expect(engine.select(null, 't').count).toBe(0);
  });

  test('within the limit the functions answer what SQLite answers', () => {
    const engine = engineWith();
    expect(value(engine, 'length(zeroblob(1000))')).toBe(1000);
    expect(value(engine, 'length(zeroblob(-3))')).toBe(0);
    expect(value(engine, "length(zeroblob('12'))")).toBe(12);
    expect(value(engine, `length(zeroblob(${ENGINE_LIMITS_DEFAULT.value_size_max_bytes}))`)).toBe(1_048_576);
    expect(value(engine, 'typeof(zeroblob(2))')).toBe('blob');
    expect(value(engine, "printf('%5d|%-4s|%.2f|%%|%c', 42, 'ab', 3.14159, 'xyz')")).toBe('   42|ab  |3.14|%|x');
    expect(value(engine, "format('%s-%s', 1, NULL)")).toBe('1-');
    expect(value(engine, "printf('%.*c', 5, 'x')")).toBe('xxxxx');
    expect(value(engine, "replace('banana', 'an', 'AN')")).toBe('bANANa');
    expect(value(engine, "replace('abc', '', 'x')")).toBe('abc');
    expect(value(engine, "replace(NULL, 'a', 'b')")).toBe(null);
    expect(value(engine, "hex('ab')")).toBe('6162');
    expect(value(engine, 'hex(12)')).toBe('3132');
    expect(value(engine, "quote('it''s')")).toBe("'it''s'");
    expect(value(engine, "quote(x'0102')")).toBe("X'0102'");
    expect(value(engine, 'quote(1.5)')).toBe('1.5');
  });

  test.each([
    ['zeroblob(1048577)'],
    ['randomblob(1048577)'],
    ["printf('%2000000d', 1)"],
    ["printf('%.2000000f', 1.0)"],
    ["printf('%.*c', 2000000, 'x')"],
    ["printf('%*s', -2000000, 'x')"],
    ["format('%9999999999999999999s', 'x')"],
    ["replace(hex(zeroblob(300000)), '0', 'abcdefgh')"],
    ["replace(replace(replace(replace(replace('aa', 'a', 'aaaaaaaaaaaaaaaa'), 'a', 'aaaaaaaaaaaaaaaa'), 'a', 'aaaaaaaaaaaaaaaa'), 'a', 'aaaaaaaaaaaaaaaa'), 'a', 'aaaaaaaaaaaaaaaa')"],
    ['hex(hex(hex(zeroblob(200000))))'],
    ["quote(replace(hex(zeroblob(262144)), '0', ''''))"],
  ])('%s is VALUE_TOO_LARGE, in a read and in a write', (expression) => {
    const engine = engineWith();
    expect(thrownCode(() => engine.query(null, `SELECT length(${expression})`))).toBe('VALUE_TOO_LARGE');
    expect(codeOf(run(engine, `CREATE TABLE t (v); INSERT INTO t VALUES (${expression})`))).toBe('VALUE_TOO_LARGE');
    expect(thrownCode(() => engine.query(null, 'SELECT * FROM t'))).toBe('SQL_ERROR'); // nothing of the script stayed
  });

  test('a trigger, a default and a generated column are bounded too', () => {
    const engine = engineWith({ value_size_max_bytes: 4096 });
    expect(codeOf(run(engine, 'CREATE TABLE d (a, b DEFAULT (zeroblob(5000)))'))).toBe('OK');
    expect(codeOf(run(engine, 'INSERT INTO d (a) VALUES (1)'))).toBe('VALUE_TOO_LARGE');
    expect(codeOf(run(engine, 'CREATE TABLE g (a, b AS (hex(a)))'))).toBe('OK');
    expect(codeOf(run(engine, 'INSERT INTO g (a) VALUES (zeroblob(3000))'))).toBe('VALUE_TOO_LARGE');
    expect(codeOf(run(engine, 'INSERT INTO g (a) VALUES (zeroblob(2000))'))).toBe('OK');
  });
});

describe('result_size_max_bytes', () => {
  const MANY_ROWS = 'WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 100000) SELECT n, hex(n) AS h FROM c';

  test('a read whose answer passes the budget is RESULT_TOO_LARGE; a smaller one is answered', () => {
    const engine = engineWith({ result_size_max_bytes: 65_536 });
    expect(thrownCode(() => engine.query(null, MANY_ROWS))).toBe('RESULT_TOO_LARGE');
    expect(thrownCode(() => engine.query(null, 'SELECT zeroblob(60000), zeroblob(60000)'))).toBe('RESULT_TOO_LARGE');
    const small = engine.query(null, `${MANY_ROWS} LIMIT 100`) as { rows: unknown[] };
    expect(small.rows).toHaveLength(100);
  });

  test('the budget covers a whole script, and a write with RETURNING rows (which then changes nothing)', () => {
    const engine = engineWith({ result_size_max_bytes: 65_536 });
    expect(thrownCode(() => engine.query(null, 'SELECT zeroblob(30000); SELECT zeroblob(30000)'))).toBe('RESULT_TOO_LARGE');
    expect(codeOf(run(engine, 'CREATE TABLE t (n)'))).toBe('OK');
    const returning = `INSERT INTO t ${MANY_ROWS.replace(', hex(n) AS h', '')} RETURNING n, hex(n)`;
    expect(codeOf(run(engine, returning))).toBe('RESULT_TOO_LARGE');
    expect(value(engine, 'count(*) FROM t')).toBe(0);
  });

  test('with the default budget, the largest answer still fits in a JSON string', () => {
    const engine = engineWith({ value_size_max_bytes: 16 * 1024 * 1024 });
    const script = 'WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 8) SELECT zeroblob(16000000) FROM c';
    expect(thrownCode(() => engine.query(null, script))).toBe('RESULT_TOO_LARGE');
  });
});

describe('result_size_max_bytes on /select and /search', () => {
  test('a table whose rows pass the budget is RESULT_TOO_LARGE; a small one is answered', () => {
    const engine = engineWith({ result_size_max_bytes: 65_536 });
    expect(engine.apply({ type: 'create_table', db_name: null, table_name: 'notes', columns: ['body'] }, CONTEXT).ok).toBe(true);
    for (let i = 0; i < 10; i++) {
      engine.apply({ type: 'insert', db_name: null, table_name: 'notes', row_id: String(i), data: { body: 'short' } }, CONTEXT);
    }
    expect(engine.select(null, 'notes').count).toBe(10);
    for (let i = 10; i < 200; i++) {
      engine.apply({ type: 'insert', db_name: null, table_name: 'notes', row_id: String(i), data: { body: 'y'.repeat(1000) } }, CONTEXT);
    }
    expect(thrownCode(() => engine.select(null, 'notes'))).toBe('RESULT_TOO_LARGE');
    expect(thrownCode(() => engine.search(null, 'notes', 'body', 'y'.repeat(1000)))).toBe('RESULT_TOO_LARGE');
    expect(engine.search(null, 'notes', 'body', 'short').count).toBe(10);
  });
});

describe('database_size_max_bytes', () => {
  test('a database full to its quota refuses the write with QUOTA_EXCEEDED; DELETE gives the space back', () => {
    const engine = engineWith({ database_size_max_bytes: 1_048_576 });
    expect(codeOf(run(engine, 'CREATE TABLE t (b)'))).toBe('OK');
    const results: string[] = [];
    for (let i = 0; i < 20; i++) results.push(codeOf(run(engine, 'INSERT INTO t VALUES (randomblob(100000))')));
    expect(results.slice(0, 9)).toEqual(new Array(9).fill('OK'));
    expect(results.slice(-1)).toEqual(['QUOTA_EXCEEDED']);
    const full = pageCount(engine);
    expect(full).toBeLessThanOrEqual(256);
    const rows = value(engine, 'count(*) FROM t') as number;
    expect(codeOf(run(engine, 'DELETE FROM t'))).toBe('OK');
    expect(pageCount(engine)).toBeLessThan(5);
    for (let i = 0; i < rows; i++) expect(codeOf(run(engine, 'INSERT INTO t VALUES (randomblob(100000))'))).toBe('OK');
  });

  test('the row endpoints report QUOTA_EXCEEDED too, and delete_record gives the space back', () => {
    const engine = engineWith({ database_size_max_bytes: 262_144 });
    expect(engine.apply({ type: 'create_table', db_name: null, table_name: 'files', columns: ['body'] }, CONTEXT).ok).toBe(true);
    const body = 'x'.repeat(100_000);
    const insert = (row_id: string): string =>
      codeOf(engine.apply({ type: 'insert', db_name: null, table_name: 'files', row_id, data: { body } }, CONTEXT));
    expect(insert('1')).toBe('OK');
    expect(insert('2')).toBe('OK');
    expect(insert('3')).toBe('QUOTA_EXCEEDED');
    const before = pageCount(engine);
    expect(engine.apply({ type: 'delete_row', db_name: null, table_name: 'files', row_id: '1' }, CONTEXT).ok).toBe(true);
    expect(pageCount(engine)).toBeLessThan(before - 20);
    expect(insert('3')).toBe('OK');
  });

  test('an image over the quota (from a larger one) can only shrink, and is not taken for a changed setting', () => {
    const large = engineWith({ database_size_max_bytes: 1_048_576 });
    expect(codeOf(run(large, 'CREATE TABLE t (id INTEGER PRIMARY KEY, b)'))).toBe('OK');
    for (let i = 0; i < 6; i++) expect(codeOf(run(large, 'INSERT INTO t (b) VALUES (randomblob(100000))'))).toBe('OK');
    const small = engineWith({ database_size_max_bytes: 262_144 });
    small.restore(large.snapshot());
    expect(pageCount(small)).toBeGreaterThan(64);
    expect(thrownCode(() => small.query(null, 'PRAGMA user_version'))).toBe('OK');
    expect(codeOf(run(small, 'INSERT INTO t (b) VALUES (randomblob(100000))'))).toBe('QUOTA_EXCEEDED');
    expect(codeOf(run(small, 'DELETE FROM t WHERE id <= 3; PRAGMA user_version'))).toBe('OK');
    expect(codeOf(run(small, 'INSERT INTO t (b) VALUES (randomblob(100000))'))).toBe('QUOTA_EXCEEDED');
    expect(codeOf(run(small, 'DELETE FROM t WHERE id <= 5'))).toBe('OK');
    expect(codeOf(run(small, 'INSERT INTO t (b) VALUES (randomblob(100000)); PRAGMA user_version'))).toBe('OK');
    expect(small.connectionSettings(null).max_page_count).toBe(64);
  });

  test('a snapshot keeps auto_vacuum=INCREMENTAL, and the restored node keeps the quota', () => {
    const engine = engineWith({ database_size_max_bytes: 262_144 });
    expect(codeOf(run(engine, 'CREATE TABLE t (b); INSERT INTO t VALUES (randomblob(100000))'))).toBe('OK');
    const restored = engineWith({ database_size_max_bytes: 262_144 });
    restored.restore(engine.snapshot());
    const header = Buffer.from(restored.serializeDatabase(null));
    expect(header.readUInt32BE(52)).toBeGreaterThan(0); // auto_vacuum on: the largest root page
    expect(header.readUInt32BE(64)).toBe(1); // incremental
    expect(codeOf(run(restored, 'INSERT INTO t VALUES (randomblob(100000))'))).toBe('OK');
    expect(codeOf(run(restored, 'INSERT INTO t VALUES (randomblob(100000))'))).toBe('QUOTA_EXCEEDED');
    expect(codeOf(run(engine, 'INSERT INTO t VALUES (randomblob(100000))'))).toBe('OK');
    expect(codeOf(run(engine, 'INSERT INTO t VALUES (randomblob(100000))'))).toBe('QUOTA_EXCEEDED');
    expect(Buffer.compare(Buffer.from(engine.serializeDatabase(null)), Buffer.from(restored.serializeDatabase(null)))).toBe(0);
  });
});

describe('memory comes back', () => {
  test('a DELETE that frees many pages moves the database to a fresh copy, and nothing a statement sees changes', () => {
    const engine = engineWith();
    const twin = engineWith();
    const script = 'CREATE TABLE t (id INTEGER PRIMARY KEY, b); ' + new Array(24).fill('INSERT INTO t (b) VALUES (zeroblob(1000000))').join('; ');
    expect(codeOf(run(engine, script))).toBe('OK');
    twin.restore(engine.snapshot());
    for (const each of [engine, twin]) {
      expect(codeOf(run(each, 'DELETE FROM t WHERE id > 2'))).toBe('OK');
      expect(pageCount(each)).toBeLessThan(1000);
      expect(each.connectionSettings(null)).toMatchObject({ max_page_count: 262_144, query_only: 0 });
    }
    const counters = (each: Engine): ApplyResult => run(each, 'INSERT INTO t (b) VALUES (last_insert_rowid() || \'/\' || changes()) RETURNING b');
    expect(counters(engine)).toEqual({ ok: true, value: { columns: ['b'], rows: [['24/22']] } });
    expect(counters(twin)).toEqual({ ok: true, value: { columns: ['b'], rows: [['24/22']] } });
    expect(Buffer.compare(Buffer.from(engine.serializeDatabase(null)), Buffer.from(twin.serializeDatabase(null)))).toBe(0);
  });
});
