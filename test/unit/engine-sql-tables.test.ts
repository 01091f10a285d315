/** The row endpoints on tables made by SQL: row_id means the primary key, or the rowid. */
import type { ApplyResult, Command, RowData } from '../../database/commands';
import { Engine } from '../../database/engine';

import { FIXED_CONTEXT as CONTEXT } from '../support/engine';

let engine: Engine;
beforeEach(() => {
  engine = new Engine();
});
afterEach(() => engine.close());

function apply(command: Command): ApplyResult {
  return engine.apply(command, CONTEXT);
}

function sql(script: string): unknown {
  const result = apply({ type: 'sql', db_name: null, script });
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

function insert(table_name: string, row_id: string, data: RowData): ApplyResult {
  return apply({ type: 'insert', db_name: null, table_name, row_id, data });
}

function codeOf(result: ApplyResult): string {
  return result.ok ? 'OK' : result.error.code;
}

describe('INTEGER PRIMARY KEY (seed 000)', () => {
  beforeEach(() => {
    sql(`CREATE TABLE IF NOT EXISTS users (
      id INTEGER PRIMARY KEY,
      username TEXT UNIQUE,
      email TEXT,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    )`);
  });

  test('row_id is the id; defaults come from the context time', () => {
    expect(insert('users', '5', { username: 'amira', email: 'a@x' })).toEqual({
      ok: true,
      value: { row_id: '5', id: 5, username: 'amira', email: 'a@x', created_at: '2025-05-18 12:34:56' },
    });
    expect(engine.query(null, 'SELECT typeof(id) FROM users')).toEqual({ columns: ['typeof(id)'], rows: [['integer']] });
  });

  test('data may repeat the key only with the same value', () => {
    expect(codeOf(insert('users', '5', { id: 5, username: 'a' }))).toBe('OK');
    expect(codeOf(insert('users', '6', { id: 7, username: 'b' }))).toBe('INVALID_REQUEST');
  });

  test('a non-integer row_id cannot be stored or found', () => {
    expect(codeOf(insert('users', 'abc', { username: 'a' }))).toBe('INVALID_REQUEST');
    expect(codeOf(insert('users', '007', { username: 'a' }))).toBe('INVALID_REQUEST');
    expect(engine.getRow(null, 'users', 'abc')).toBeNull();
    expect(codeOf(apply({ type: 'delete_row', db_name: null, table_name: 'users', row_id: 'abc' }))).toBe('ROW_NOT_FOUND');
    expect(codeOf(apply({ type: 'update', db_name: null, table_name: 'users', row_id: 'x', new_data: { email: 'e' } }))).toBe(
      'ROW_NOT_FOUND',
    );
  });

  test('ROW_EXISTS, and other constraints are SQL_ERROR with SQLite message and code', () => {
    insert('users', '1', { username: 'a' });
    expect(codeOf(insert('users', '1', { username: 'b' }))).toBe('ROW_EXISTS');
    expect(insert('users', '2', { username: 'a' })).toEqual({
      ok: false,
      error: {
        code: 'SQL_ERROR',
        message: 'UNIQUE constraint failed: users.username',
        details: { sqlite_code: 'SQLITE_CONSTRAINT_UNIQUE' },
      },
    });
  });

  test('select orders by the key numerically; search by row_id', () => {
    for (const row_id of ['10', '9', '-1']) insert('users', row_id, { username: `u${row_id}` });
    expect(engine.select(null, 'users').rows.map((row) => row.row_id)).toEqual(['-1', '9', '10']);
    expect(engine.search(null, 'users', 'row_id', '9').rows.map((row) => row.username)).toEqual(['u9']);
    expect(engine.search(null, 'users', 'id', '10').count).toBe(1);
  });

  test('update and delete by row_id', () => {
    insert('users', '1', { username: 'a' });
    const updated = apply({ type: 'update', db_name: null, table_name: 'users', row_id: '1', new_data: { email: 'new' } });
    expect(updated).toEqual({
      ok: true,
      value: { row_id: '1', id: 1, username: 'a', email: 'new', created_at: '2025-05-18 12:34:56' },
    });
    expect(codeOf(apply({ type: 'delete_row', db_name: null, table_name: 'users', row_id: '1' }))).toBe('OK');
    expect(engine.select(null, 'users').count).toBe(0);
  });
});

describe('other keys', () => {
  test('a TEXT primary key', () => {
    sql('CREATE TABLE codes (code TEXT PRIMARY KEY, label)');
    insert('codes', 'EG', { label: 'Egypt' });
    expect(engine.select(null, 'codes').rows).toEqual([{ row_id: 'EG', code: 'EG', label: 'Egypt' }]);
  });

  test('an INT primary key (integer affinity, not the rowid) takes integers and text', () => {
    sql('CREATE TABLE k (id INT PRIMARY KEY, v)');
    insert('k', '7', { v: 1 });
    insert('k', 'seven', { v: 2 });
    expect(engine.query(null, 'SELECT id, typeof(id) FROM k ORDER BY v')).toEqual({
      columns: ['id', 'typeof(id)'],
      rows: [
        [7, 'integer'],
        ['seven', 'text'],
      ],
    });
    expect(engine.getRow(null, 'k', '7')).toEqual({ row_id: '7', id: 7, v: 1 });
  });

  test('a table without a primary key is keyed by its rowid (seed 004 Users)', () => {
    sql('CREATE TABLE Users (id INTEGER, name TEXT)');
    sql("INSERT INTO Users VALUES (1, 'Alice')");
    expect(insert('Users', '5', { id: 2, name: 'Bob' })).toEqual({ ok: true, value: { row_id: '5', id: 2, name: 'Bob' } });
    expect(engine.select(null, 'users').rows).toEqual([
      { row_id: '1', id: 1, name: 'Alice' },
      { row_id: '5', id: 2, name: 'Bob' },
    ]);
    expect(codeOf(insert('Users', 'x', { id: 3 }))).toBe('INVALID_REQUEST');
  });

  test('a composite primary key with a rowid is keyed by the rowid', () => {
    sql('CREATE TABLE student_course (student_id INTEGER, course_id INTEGER, PRIMARY KEY (student_id, course_id))');
    expect(codeOf(insert('student_course', '1', { student_id: 1, course_id: 2 }))).toBe('OK');
    expect(engine.getRow(null, 'student_course', '1')).toEqual({ row_id: '1', student_id: 1, course_id: 2 });
  });

  test('a composite key WITHOUT ROWID can be read but not addressed', () => {
    sql('CREATE TABLE pairs (a, b, PRIMARY KEY (a, b)) WITHOUT ROWID');
    sql('INSERT INTO pairs VALUES (2, 1), (1, 2)');
    expect(engine.select(null, 'pairs').rows).toEqual([
      { a: 1, b: 2 },
      { a: 2, b: 1 },
    ]);
    expect(engine.search(null, 'pairs', 'a', '2').count).toBe(1);
    const result = insert('pairs', '1', { a: 3, b: 3 });
    expect(result).toEqual({ ok: false, error: { code: 'INVALID_REQUEST', message: expect.stringMatching(/composite/) } });
    expect(() => engine.getRow(null, 'pairs', '1')).toThrow(/composite/);
  });

  test('a view can be read but not written', () => {
    sql("CREATE TABLE t (a); INSERT INTO t VALUES (1); CREATE VIEW v AS SELECT a * 10 AS b FROM t");
    expect(engine.select(null, 'v').rows).toEqual([{ b: 10 }]);
    expect(codeOf(insert('v', '1', { b: 1 }))).toBe('INVALID_REQUEST');
  });

  test('a non-key column named row_id makes rows unaddressable', () => {
    sql('CREATE TABLE odd (id INTEGER PRIMARY KEY, row_id TEXT)');
    expect(codeOf(insert('odd', '1', {}))).toBe('INVALID_REQUEST');
  });

  test('generated columns are read but not written', () => {
    sql('CREATE TABLE g (a, doubled AS (a * 2))');
    insert('g', '1', { a: 21 });
    expect(engine.getRow(null, 'g', '1')).toEqual({ row_id: '1', a: 21, doubled: 42 });
    expect(codeOf(insert('g', '2', { doubled: 1 }))).toBe('INVALID_REQUEST');
  });

  test('an ALTER TABLE in a script refreshes the cached columns', () => {
    sql('CREATE TABLE t (a)');
    insert('t', '1', { a: 1 });
    sql('ALTER TABLE t ADD COLUMN b');
    expect(codeOf(insert('t', '2', { a: 2, b: 3 }))).toBe('OK');
    expect(engine.select(null, 't').rows).toEqual([
      { row_id: '1', a: 1, b: null },
      { row_id: '2', a: 2, b: 3 },
    ]);
  });
});

describe('seed 001: students, courses and the bridge table', () => {
  test('the schema, rows through the row endpoints, and a join', () => {
    sql(`CREATE TABLE student (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE course (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE student_course (
           student_id INTEGER REFERENCES student(id),
           course_id INTEGER REFERENCES course(id),
           PRIMARY KEY (student_id, course_id)
         ) WITHOUT ROWID`);
    insert('student', '1', { name: 'Ahmed' });
    insert('student', '2', { name: 'Moamen' });
    insert('course', '10', { name: 'Distributed Databases' });
    sql('INSERT INTO student_course VALUES (1, 10), (2, 10)');
    const joined = engine.query(
      null,
      `SELECT s.name AS student, c.name AS course FROM student s
       JOIN student_course sc ON sc.student_id = s.id JOIN course c ON c.id = sc.course_id ORDER BY s.id`,
    );
    expect(joined).toEqual({
      columns: ['student', 'course'],
      rows: [
        ['Ahmed', 'Distributed Databases'],
        ['Moamen', 'Distributed Databases'],
      ],
    });
    // Foreign keys are enforced (better-sqlite3 builds SQLite with them on).
    const orphan = apply({ type: 'sql', db_name: null, script: 'INSERT INTO student_course VALUES (3, 10)' });
    expect(orphan).toEqual({
      ok: false,
      error: { code: 'SQL_ERROR', message: 'FOREIGN KEY constraint failed', details: { sqlite_code: 'SQLITE_CONSTRAINT_FOREIGNKEY' } },
    });
    expect(codeOf(insert('student', '3', {}))).toBe('SQL_ERROR'); // NOT NULL name
  });
});
