import type { ApplyResult, Command } from '../../database/commands';
import { Engine } from '../../database/engine';
import { COLUMNS_PER_TABLE_MAX } from '../../database/table-commands';
import { createTableSchema } from '../../handlers/schemas';

import { FIXED_CONTEXT as CONTEXT, thrownCode } from '../support/engine';

let engine: Engine;
beforeEach(() => {
  engine = new Engine();
});
afterEach(() => engine.close());

function apply(command: Command): ApplyResult {
  return engine.apply(command, CONTEXT);
}

function value(command: Command): unknown {
  const result = apply(command);
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.error)}`);
  return result.value;
}

function errorCode(command: Command): string {
  const result = apply(command);
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  return result.error.code;
}

/** Seed 003's students table. */
function createStudents(db_name: string | null = null): void {
  value({ type: 'create_table', db_name, table_name: 'students', columns: ['id', 'name', 'grade'] });
}

function insertAhmed(db_name: string | null = null): void {
  value({
    type: 'insert',
    db_name,
    table_name: 'students',
    row_id: '1',
    data: { id: '1', name: 'Ahmed', grade: 'A' },
  });
}

describe('init_database', () => {
  test('starts with main as the default', () => {
    expect(engine.defaultDatabase()).toBe('main');
    expect(engine.listDatabases()).toEqual(['main']);
  });

  test('creates a database and makes it the default (seed 003)', () => {
    expect(value({ type: 'init_database', db_name: 'DDB0' })).toEqual({ db_name: 'DDB0', created: true });
    expect(engine.defaultDatabase()).toBe('DDB0');
    expect(engine.listDatabases()).toEqual(['DDB0', 'main']);
  });

  test('an existing database (any case) becomes the default, keeping its spelling', () => {
    value({ type: 'init_database', db_name: 'DDB0' });
    value({ type: 'init_database', db_name: 'main' });
    expect(engine.defaultDatabase()).toBe('main');
    expect(value({ type: 'init_database', db_name: 'ddb0' })).toEqual({ db_name: 'DDB0', created: false });
    expect(engine.defaultDatabase()).toBe('DDB0');
  });

  test.each([['1abc'], ['has space'], [''], ['a'.repeat(65)], ['semi;colon']])('rejects the name %p', (db_name) => {
    expect(errorCode({ type: 'init_database', db_name })).toBe('INVALID_REQUEST');
  });

  test('lists databases sorted case-insensitively', () => {
    for (const db_name of ['zeta', 'Alpha', 'beta']) value({ type: 'init_database', db_name });
    expect(engine.listDatabases()).toEqual(['Alpha', 'beta', 'main', 'zeta']);
  });
});

describe('create_table and drop_table', () => {
  test('creates row_id plus the declared columns', () => {
    expect(value({ type: 'create_table', db_name: null, table_name: 'students', columns: ['id', 'name', 'grade'] })).toEqual({
      table_name: 'students',
      columns: ['id', 'name', 'grade'],
    });
    const info = engine.query(null, 'PRAGMA table_info(students)') as { rows: unknown[][] };
    expect(info.rows.map((row) => [row[1], row[2], row[5]])).toEqual([
      ['row_id', 'TEXT', 1],
      ['id', '', 0],
      ['name', '', 0],
      ['grade', '', 0],
    ]);
  });

  test('TABLE_EXISTS, also in another case', () => {
    createStudents();
    expect(errorCode({ type: 'create_table', db_name: null, table_name: 'STUDENTS', columns: [] })).toBe('TABLE_EXISTS');
  });

  test.each([
    ['a bad table name', 'bad name', ['a']],
    ['a bad column name', 't', ['ok', 'not ok']],
    ['a duplicate column', 't', ['a', 'A']],
    ['a declared row_id', 't', ['row_id']],
    ['columns not an array', 't', 'a' as unknown as string[]],
  ])('%s is INVALID_REQUEST', (_name, table_name, columns) => {
    expect(errorCode({ type: 'create_table', db_name: null, table_name, columns })).toBe('INVALID_REQUEST');
  });

  test.each([
    ['a bad table name', 'bad name', ['a'], '/table_name'],
    ['a bad column name', 't', ['ok', 'not ok'], '/columns/1'],
    ['a duplicate column', 't', ['a', 'b', 'B'], '/columns/2'],
    ['a declared row_id', 't', ['a', 'ROW_ID'], '/columns/1'],
    ['columns not an array', 't', 'a' as unknown as string[], '/columns'],
    ['one column too many', 't', Array.from({ length: COLUMNS_PER_TABLE_MAX + 1 }, (_, index) => `c${index}`), '/columns'],
  ])('%s: the error carries the path of the body field', (_name, table_name, columns, path) => {
    const result = apply({ type: 'create_table', db_name: null, table_name, columns });
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST', details: { path } } });
  });

  test('COLUMNS_PER_TABLE_MAX columns is a table; the /create_table schema allows the same number', () => {
    const columns = Array.from({ length: COLUMNS_PER_TABLE_MAX }, (_, index) => `c${index}`);
    expect(apply({ type: 'create_table', db_name: null, table_name: 'wide', columns }).ok).toBe(true);
    expect(createTableSchema.properties.columns.maxItems).toBe(COLUMNS_PER_TABLE_MAX);
  });

  test('an unknown database is DATABASE_NOT_FOUND', () => {
    expect(errorCode({ type: 'create_table', db_name: 'nope', table_name: 't', columns: [] })).toBe('DATABASE_NOT_FOUND');
  });

  test('drop_table removes the table; a missing one is TABLE_NOT_FOUND', () => {
    createStudents();
    expect(value({ type: 'drop_table', db_name: null, table_name: 'Students' })).toEqual({ table_name: 'students' });
    expect(errorCode({ type: 'drop_table', db_name: null, table_name: 'students' })).toBe('TABLE_NOT_FOUND');
    expect(thrownCode(() => engine.select(null, 'students'))).toBe('TABLE_NOT_FOUND');
  });

  test('a table can be re-created with other columns after a drop (no stale cache)', () => {
    createStudents();
    insertAhmed();
    value({ type: 'drop_table', db_name: null, table_name: 'students' });
    value({ type: 'create_table', db_name: null, table_name: 'students', columns: ['email'] });
    expect(errorCode({ type: 'insert', db_name: null, table_name: 'students', row_id: '1', data: { name: 'x' } })).toBe(
      'UNKNOWN_COLUMN',
    );
    value({ type: 'insert', db_name: null, table_name: 'students', row_id: '1', data: { email: 'a@b' } });
    expect(engine.select(null, 'students').rows).toEqual([{ row_id: '1', email: 'a@b' }]);
  });
});

describe('insert', () => {
  beforeEach(() => createStudents());

  test('stores values as given and returns the row (seed 003)', () => {
    const row = value({
      type: 'insert',
      db_name: null,
      table_name: 'students',
      row_id: '1',
      data: { id: '1', name: 'Ahmed', grade: 'A' },
    });
    expect(row).toEqual({ row_id: '1', id: '1', name: 'Ahmed', grade: 'A' });
  });

  test('integers stay integers, booleans become 1 and 0, reals and null stay', () => {
    value({ type: 'insert', db_name: null, table_name: 'students', row_id: '2', data: { id: 2, name: true, grade: 1.5 } });
    value({ type: 'insert', db_name: null, table_name: 'students', row_id: '3', data: { id: null, name: false } });
    const types = engine.query(null, 'SELECT typeof(id), typeof(name), typeof(grade) FROM students ORDER BY row_id');
    expect(types).toEqual({
      columns: ['typeof(id)', 'typeof(name)', 'typeof(grade)'],
      rows: [
        ['integer', 'integer', 'real'],
        ['null', 'integer', 'null'],
      ],
    });
    expect(engine.getRow(null, 'students', '2')).toEqual({ row_id: '2', id: 2, name: 1, grade: 1.5 });
  });

  test('ROW_EXISTS for a duplicate row_id', () => {
    insertAhmed();
    expect(errorCode({ type: 'insert', db_name: null, table_name: 'students', row_id: '1', data: {} })).toBe('ROW_EXISTS');
  });

  test('UNKNOWN_COLUMN names the column', () => {
    const result = apply({ type: 'insert', db_name: null, table_name: 'students', row_id: '1', data: { age: 3 } });
    expect(result).toEqual({
      ok: false,
      error: { code: 'UNKNOWN_COLUMN', message: expect.stringContaining('age'), details: { column: 'age' } },
    });
  });

  test('column names match case-insensitively', () => {
    value({ type: 'insert', db_name: null, table_name: 'STUDENTS', row_id: '1', data: { NAME: 'x' } });
    expect(engine.getRow(null, 'students', '1')).toEqual({ row_id: '1', id: null, name: 'x', grade: null });
  });

  test('data.row_id must equal row_id', () => {
    value({ type: 'insert', db_name: null, table_name: 'students', row_id: '1', data: { row_id: '1', name: 'x' } });
    expect(errorCode({ type: 'insert', db_name: null, table_name: 'students', row_id: '2', data: { row_id: '3' } })).toBe(
      'INVALID_REQUEST',
    );
  });

  test.each([
    ['an object value', { name: { nested: 1 } }],
    ['an array value', { name: [1] }],
    ['the same column twice', { name: 'a', NAME: 'b' }],
  ])('%s is INVALID_REQUEST', (_name, data) => {
    const command = { type: 'insert', db_name: null, table_name: 'students', row_id: '9', data } as unknown as Command;
    expect(errorCode(command)).toBe('INVALID_REQUEST');
  });

  test('a missing table is TABLE_NOT_FOUND and a missing database DATABASE_NOT_FOUND', () => {
    expect(errorCode({ type: 'insert', db_name: null, table_name: 'nope', row_id: '1', data: {} })).toBe('TABLE_NOT_FOUND');
    expect(errorCode({ type: 'insert', db_name: 'nope', table_name: 'students', row_id: '1', data: {} })).toBe(
      'DATABASE_NOT_FOUND',
    );
  });
});

describe('update', () => {
  beforeEach(() => {
    createStudents();
    insertAhmed();
  });

  test('changes the named columns and returns the row (seed 003)', () => {
    const row = value({ type: 'update', db_name: null, table_name: 'students', row_id: '1', new_data: { grade: 'A+' } });
    expect(row).toEqual({ row_id: '1', id: '1', name: 'Ahmed', grade: 'A+' });
  });

  test('ROW_NOT_FOUND, UNKNOWN_COLUMN, INVALID_REQUEST', () => {
    expect(errorCode({ type: 'update', db_name: null, table_name: 'students', row_id: '2', new_data: { grade: 'B' } })).toBe(
      'ROW_NOT_FOUND',
    );
    expect(errorCode({ type: 'update', db_name: null, table_name: 'students', row_id: '1', new_data: { age: 1 } })).toBe(
      'UNKNOWN_COLUMN',
    );
    expect(errorCode({ type: 'update', db_name: null, table_name: 'students', row_id: '1', new_data: {} })).toBe(
      'INVALID_REQUEST',
    );
    expect(errorCode({ type: 'update', db_name: null, table_name: 'students', row_id: '1', new_data: { row_id: '2' } })).toBe(
      'INVALID_REQUEST',
    );
  });
});

describe('delete_row', () => {
  beforeEach(() => {
    createStudents();
    insertAhmed();
  });

  test('deletes; a missing row is ROW_NOT_FOUND', () => {
    expect(value({ type: 'delete_row', db_name: null, table_name: 'students', row_id: '1' })).toEqual({
      table_name: 'students',
      row_id: '1',
    });
    expect(engine.select(null, 'students')).toEqual({ rows: [], count: 0 });
    expect(errorCode({ type: 'delete_row', db_name: null, table_name: 'students', row_id: '1' })).toBe('ROW_NOT_FOUND');
  });
});

describe('read paths', () => {
  beforeEach(() => {
    createStudents();
    for (const [row_id, id, name] of [
      ['b', 1, 'Mona'],
      ['a', '1', 'Ahmed'],
      ['c', 2, 'Ahmed'],
    ] as const) {
      value({ type: 'insert', db_name: null, table_name: 'students', row_id, data: { id, name } });
    }
  });

  test('select returns every row ordered by row_id', () => {
    const { rows, count } = engine.select(null, 'students');
    expect(count).toBe(3);
    expect(rows.map((row) => row.row_id)).toEqual(['a', 'b', 'c']);
  });

  test('search compares as text: "1" finds 1 and \'1\'', () => {
    expect(engine.search(null, 'students', 'id', '1').rows.map((row) => row.row_id)).toEqual(['a', 'b']);
    expect(engine.search(null, 'students', 'name', 'Ahmed').count).toBe(2);
    expect(engine.search(null, 'students', 'row_id', 'c').rows).toEqual([
      { row_id: 'c', id: 2, name: 'Ahmed', grade: null },
    ]);
    expect(engine.search(null, 'students', 'name', 'nobody')).toEqual({ rows: [], count: 0 });
  });

  test('getRow returns the row or null', () => {
    expect(engine.getRow(null, 'students', 'b')).toEqual({ row_id: 'b', id: 1, name: 'Mona', grade: null });
    expect(engine.getRow(null, 'students', 'zz')).toBeNull();
  });

  test('read errors are thrown as DdbError', () => {
    expect(thrownCode(() => engine.select('nope', 'students'))).toBe('DATABASE_NOT_FOUND');
    expect(thrownCode(() => engine.select(null, 'nope'))).toBe('TABLE_NOT_FOUND');
    expect(thrownCode(() => engine.search(null, 'students', 'age', '1'))).toBe('UNKNOWN_COLUMN');
    expect(thrownCode(() => engine.getRow(null, 'nope', '1'))).toBe('TABLE_NOT_FOUND');
    expect(thrownCode(() => engine.select(null, ''))).toBe('INVALID_REQUEST');
  });

  test('reads follow db_name and the default database', () => {
    value({ type: 'init_database', db_name: 'other' });
    expect(thrownCode(() => engine.select(null, 'students'))).toBe('TABLE_NOT_FOUND');
    expect(engine.select('main', 'students').count).toBe(3);
    expect(engine.select('MAIN', 'students').count).toBe(3);
  });
});

describe('apply', () => {
  test('throws on a programmer error: an unknown command type', () => {
    expect(() => engine.apply({ type: 'nope' } as unknown as Command, CONTEXT)).toThrow(/unknown command type/);
  });

  test('throws on a context out of range', () => {
    const command: Command = { type: 'init_database', db_name: 'x' };
    expect(() => engine.apply(command, { timestamp_ms: Number.NaN, seed: 1 })).toThrow(/timestamp_ms/);
    expect(() => engine.apply(command, { timestamp_ms: 0, seed: -1 })).toThrow(/seed/);
  });

  test('a column may be called __proto__', () => {
    value({ type: 'create_table', db_name: null, table_name: 't', columns: ['__proto__'] });
    value({ type: 'insert', db_name: null, table_name: 't', row_id: '1', data: { ['__proto__']: 5 } as never });
    const row = engine.getRow(null, 't', '1');
    expect(Object.keys(row ?? {})).toEqual(['row_id', '__proto__']);
    expect(JSON.stringify(row)).toBe('{"row_id":"1","__proto__":5}');
  });
});
