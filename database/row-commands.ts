/**
 * The row endpoints (insert, update, delete_record, select, search) on one
 * table, through its cached statements. Validation errors are DdbErrors with
 * the catalogue's codes; SQLite's own errors (a NOT NULL or CHECK constraint)
 * are turned into SQL_ERROR by the caller.
 */
import type Database from 'better-sqlite3';
import { DdbError } from '../utils/errors';
import { columnNamesBytes } from './result-budget';
import type { Scalar } from './commands';
import type { ResultBudget } from './result-budget';
import type { TableAccess } from './table-access';
import { keyExpression, quoteIdentifier, type TableKey } from './table-shape';
import { isPlainObject, parseIntegerRowId, toBindValue, type BindValue } from './values';

export type Row = Record<string, Scalar>;

export interface Rows {
  rows: Row[];
  count: number;
}

interface ColumnValues {
  columns: string[];
  values: BindValue[];
}

type AddressableKey = Exclude<TableKey, { kind: 'none' }>;

export function insertRow(access: TableAccess, row_id: unknown, data: unknown): Row {
  const key = requireKey(access);
  const id = requireRowId(row_id);
  const keyValue = keyForInsert(access, key, id);
  const { columns, values } = columnValues(access, key, id, data, 'data');
  if (rowExists(access, key, keyValue)) {
    throw new DdbError('ROW_EXISTS', `row ${id} already exists in table ${access.shape.name}`);
  }
  const statement = access.statement(`insert:${columns.join(',')}`, () => {
    const names = [keyExpression(key), ...columns.map(quoteIdentifier)].join(', ');
    const placeholders = new Array(columns.length + 1).fill('?').join(', ');
    return `INSERT INTO ${access.table} (${names}) VALUES (${placeholders}) RETURNING ${access.select_list}`;
  });
  return access.toRow(statement.get(keyValue, ...values) as unknown[]);
}

export function updateRow(access: TableAccess, row_id: unknown, new_data: unknown): Row {
  const key = requireKey(access);
  const id = requireRowId(row_id);
  const keyValue = keyForLookup(key, id);
  const { columns, values } = columnValues(access, key, id, new_data, 'new_data');
  if (columns.length === 0) throw new DdbError('INVALID_REQUEST', 'new_data must name at least one column to change');
  if (keyValue === null) throw rowNotFound(access, id);
  const statement = access.statement(`update:${columns.join(',')}`, () => {
    const assignments = columns.map((column) => `${quoteIdentifier(column)} = ?`).join(', ');
    const where = `${keyExpression(key)} = ?`;
    return `UPDATE ${access.table} SET ${assignments} WHERE ${where} RETURNING ${access.select_list}`;
  });
  const updated = statement.get(...values, keyValue) as unknown[] | undefined;
  if (updated === undefined) throw rowNotFound(access, id);
  return access.toRow(updated);
}

export function deleteRow(access: TableAccess, row_id: unknown): { table_name: string; row_id: string } {
  const key = requireKey(access);
  const id = requireRowId(row_id);
  const keyValue = keyForLookup(key, id);
  const statement = access.statement('delete', () => `DELETE FROM ${access.table} WHERE ${keyExpression(key)} = ?`);
  if (keyValue === null || statement.run(keyValue).changes === 0) throw rowNotFound(access, id);
  return { table_name: access.shape.name, row_id: id };
}

export function selectRows(access: TableAccess, budget: ResultBudget): Rows {
  const statement = access.statement('select', () => `SELECT ${access.select_list} FROM ${access.table} ${access.shape.order_by}`);
  return toRows(access, readRows(access, statement, [], budget));
}

/** Rows whose column, read as text, equals `value`: "1" finds both 1 and '1'. */
export function searchRows(access: TableAccess, column: unknown, value: unknown, budget: ResultBudget): Rows {
  if (typeof column !== 'string') throw new DdbError('INVALID_REQUEST', 'column must be a string');
  if (typeof value !== 'string') throw new DdbError('INVALID_REQUEST', 'value must be a string');
  const expression = searchExpression(access, column);
  const statement = access.statement(`search:${expression}`, () => {
    const where = `CAST(${expression} AS TEXT) = ?`;
    return `SELECT ${access.select_list} FROM ${access.table} WHERE ${where} ${access.shape.order_by}`;
  });
  return toRows(access, readRows(access, statement, [value], budget));
}

/**
 * A database far smaller than the answer budget cannot give an answer over it
 * (even counting each row's column names, base64 and escapes): its rows are
 * read at once. A larger one is read row by row and counted, so an answer over
 * result_size_max_bytes stops with RESULT_TOO_LARGE before it is built.
 */
const STORED_TO_ANSWER_FACTOR_MAX = 16;

function readRows(access: TableAccess, statement: Database.Statement, args: unknown[], budget: ResultBudget): unknown[][] {
  const pages = access.statement('page_count', () => 'PRAGMA page_count').get() as [bigint];
  const stored_bytes = Number(pages[0]) * 4096;
  if (stored_bytes * STORED_TO_ANSWER_FACTOR_MAX <= budget.result_size_max_bytes) return statement.all(...args) as unknown[][];
  const names_bytes = columnNamesBytes(access.shape.columns.map((column) => column.name)) + 12;
  const rows: unknown[][] = [];
  for (const values of statement.iterate(...args) as IterableIterator<unknown[]>) {
    budget.add(names_bytes + rawRowBytes(values));
    rows.push(values);
  }
  return rows;
}

export function getRow(access: TableAccess, row_id: unknown): Row | null {
  const key = requireKey(access);
  const keyValue = keyForLookup(key, requireRowId(row_id));
  if (keyValue === null) return null;
  const statement = access.statement('get', () => {
    return `SELECT ${access.select_list} FROM ${access.table} WHERE ${keyExpression(key)} = ?`;
  });
  const values = statement.get(keyValue) as unknown[] | undefined;
  return values === undefined ? null : access.toRow(values);
}

function rawRowBytes(values: readonly unknown[]): number {
  let bytes = 2;
  for (const value of values) {
    if (typeof value === 'string') bytes += value.length + 3;
    else if (Buffer.isBuffer(value)) bytes += Math.ceil(value.length / 3) * 4 + 3;
    else bytes += 24;
  }
  return bytes;
}

function toRows(access: TableAccess, rows: unknown[][]): Rows {
  return { rows: rows.map((values) => access.toRow(values)), count: rows.length };
}

function searchExpression(access: TableAccess, column: string): string {
  const lower = column.toLowerCase();
  const key = access.shape.key;
  if (lower === 'row_id' && key.kind !== 'none') return keyExpression(key);
  const shape = access.shape.columns_by_lower_name.get(lower);
  if (shape === undefined) throw unknownColumn(access, column);
  return quoteIdentifier(shape.name);
}

function rowExists(access: TableAccess, key: AddressableKey, keyValue: BindValue): boolean {
  const statement = access.statement('exists', () => `SELECT 1 FROM ${access.table} WHERE ${keyExpression(key)} = ?`);
  return statement.get(keyValue) !== undefined;
}

function requireKey(access: TableAccess): AddressableKey {
  const key = access.shape.key;
  if (key.kind === 'none') throw new DdbError('INVALID_REQUEST', `${key.reason}, so its rows cannot be addressed by row_id`);
  return key;
}

function requireRowId(row_id: unknown): string {
  if (typeof row_id !== 'string') throw new DdbError('INVALID_REQUEST', 'row_id must be a string');
  return row_id;
}

/** The key to store: an INTEGER key (rowid) holds integers only, so "abc" is refused rather than failing in SQLite. */
function keyForInsert(access: TableAccess, key: AddressableKey, row_id: string): BindValue {
  if (key.kind === 'rowid' || key.integer_only) {
    const integer = parseIntegerRowId(row_id);
    if (integer === null) {
      const what = key.kind === 'rowid' ? 'its rowid' : `its INTEGER PRIMARY KEY ${key.column}`;
      throw new DdbError('INVALID_REQUEST', `row_id must be a 64-bit integer for table ${access.shape.name}: the key is ${what}`);
    }
    return integer;
  }
  return key.integer_affinity ? (parseIntegerRowId(row_id) ?? row_id) : row_id;
}

/** The key to look a row up by, or null when no row can have that row_id. */
function keyForLookup(key: AddressableKey, row_id: string): BindValue | null {
  if (key.kind === 'rowid' || key.integer_only) return parseIntegerRowId(row_id);
  return key.integer_affinity ? (parseIntegerRowId(row_id) ?? row_id) : row_id;
}

/**
 * The columns a client names and their values, sorted by column name so that
 * one cached statement serves every key order. `row_id` (or the key column)
 * may appear only with the row's own row_id: a row's key cannot change.
 */
function columnValues(access: TableAccess, key: AddressableKey, row_id: string, data: unknown, what: string): ColumnValues {
  if (!isPlainObject(data)) throw new DdbError('INVALID_REQUEST', `${what} must be an object`);
  const byColumn = new Map<string, BindValue>();
  const keyColumn = key.kind === 'column' ? key.column.toLowerCase() : 'row_id';
  for (const [name, value] of Object.entries(data)) {
    const lower = name.toLowerCase();
    if (lower === 'row_id' || lower === keyColumn) {
      if (!sameRowId(value, row_id)) {
        throw new DdbError('INVALID_REQUEST', `${what}.${name} must equal row_id (${row_id}): a row's row_id cannot change`);
      }
      continue;
    }
    const column = access.shape.columns_by_lower_name.get(lower);
    if (column === undefined) throw unknownColumn(access, name);
    if (!column.writable) throw new DdbError('INVALID_REQUEST', `column ${column.name} is generated and cannot be written`);
    if (byColumn.has(column.name)) throw new DdbError('INVALID_REQUEST', `column ${column.name} is given twice in ${what}`);
    byColumn.set(column.name, toBindValue(value, `${what}.${name}`));
  }
  const columns = [...byColumn.keys()].sort();
  return { columns, values: columns.map((column) => byColumn.get(column) as BindValue) };
}

function sameRowId(value: unknown, row_id: string): boolean {
  return (typeof value === 'string' || typeof value === 'number') && String(value) === row_id;
}

function rowNotFound(access: TableAccess, row_id: string): DdbError {
  return new DdbError('ROW_NOT_FOUND', `row ${row_id} does not exist in table ${access.shape.name}`);
}

function unknownColumn(access: TableAccess, column: string): DdbError {
  return new DdbError('UNKNOWN_COLUMN', `unknown column ${column} in table ${access.shape.name}`, { column });
}
