/**
 * What the row endpoints need to know about a table: its columns and what
 * `row_id` means for it. A table made by /create_table has a `row_id TEXT
 * PRIMARY KEY` column. For a table made by SQL, `row_id` is its single-column
 * primary key, or else SQLite's rowid; a table with neither (a composite key
 * WITHOUT ROWID, a view) can be read but not addressed by row_id.
 */
import type Database from 'better-sqlite3';
import { DdbError } from '../utils/errors';

export type TableKey =
  /** integer_only: the column is SQLite's rowid under another name, so it holds integers only. */
  | { kind: 'column'; column: string; integer_only: boolean; integer_affinity: boolean }
  | { kind: 'rowid' }
  | { kind: 'none'; reason: string };

export interface ColumnShape {
  name: string;
  /** False for generated columns, which SQLite computes. */
  writable: boolean;
}

export interface TableShape {
  name: string;
  columns: ColumnShape[];
  columns_by_lower_name: Map<string, ColumnShape>;
  key: TableKey;
  /** The SQL that orders rows by row_id (primary key order), or '' when there is none. */
  order_by: string;
}

interface TableListRow {
  name: string;
  type: string;
  wr: number;
}

interface ColumnRow {
  name: string;
  type: string;
  pk: number;
  hidden: number;
}

/** pragma_table_xinfo's `hidden`: 1 hides a virtual table's column from SELECT *; 2 and 3 are generated. */
const HIDDEN_COLUMN = 1;

export function loadTableShape(connection: Database.Database, table_name: string): TableShape {
  const table = connection
    .prepare("SELECT name, type, wr FROM pragma_table_list(?) WHERE schema = 'main'")
    .get(table_name) as TableListRow | undefined;
  if (table === undefined) throw new DdbError('TABLE_NOT_FOUND', `table ${table_name} does not exist`);
  const columnRows = connection
    .prepare("SELECT name, type, pk, hidden FROM pragma_table_xinfo(?, 'main')")
    .all(table.name) as ColumnRow[];
  const visible = columnRows.filter((column) => column.hidden !== HIDDEN_COLUMN);
  const columns = visible.map((column) => ({ name: column.name, writable: column.hidden === 0 }));
  const primaryKey = columnRows.filter((column) => column.pk > 0).sort((a, b) => a.pk - b.pk);
  const hasRowid = table.type !== 'view' && table.wr === 0;
  return {
    name: table.name,
    columns,
    columns_by_lower_name: new Map(columns.map((column) => [column.name.toLowerCase(), column])),
    key: resolveKey(table, primaryKey, columns, hasRowid),
    order_by: orderBy(primaryKey, hasRowid),
  };
}

function resolveKey(table: TableListRow, primaryKey: ColumnRow[], columns: ColumnShape[], hasRowid: boolean): TableKey {
  if (table.type === 'view') return { kind: 'none', reason: `${table.name} is a view` };
  let key: TableKey;
  if (primaryKey.length === 1) {
    const [column] = primaryKey;
    const integer_only = hasRowid && column.type.toUpperCase() === 'INTEGER';
    key = { kind: 'column', column: column.name, integer_only, integer_affinity: /INT/i.test(column.type) };
  } else if (hasRowid) {
    key = { kind: 'rowid' };
  } else {
    return { kind: 'none', reason: `table ${table.name} has a composite primary key and no rowid` };
  }
  const keyIsRowIdColumn = key.kind === 'column' && key.column.toLowerCase() === 'row_id';
  if (!keyIsRowIdColumn && columns.some((column) => column.name.toLowerCase() === 'row_id')) {
    return { kind: 'none', reason: `table ${table.name} has a column named row_id that is not its primary key` };
  }
  return key;
}

function orderBy(primaryKey: ColumnRow[], hasRowid: boolean): string {
  if (primaryKey.length > 0) return `ORDER BY ${primaryKey.map((column) => quoteIdentifier(column.name)).join(', ')}`;
  return hasRowid ? 'ORDER BY rowid' : '';
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The SQL expression of a table's key: its column, or rowid. */
export function keyExpression(key: TableKey): string {
  if (key.kind === 'column') return quoteIdentifier(key.column);
  if (key.kind === 'rowid') return 'rowid';
  throw new Error('keyExpression: the table has no key');
}
