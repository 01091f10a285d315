/**
 * Per-table prepared statements for the row endpoints, cached per database
 * connection and per statement shape (which columns an insert or update
 * names), so a row command costs one lookup and one statement run. The cache
 * is dropped whenever a schema may have changed (create_table, drop_table, a
 * privileged script, restore): a stale shape would name the wrong columns.
 */
import type Database from 'better-sqlite3';
import type { Scalar } from './commands';
import { keyExpression, loadTableShape, quoteIdentifier, type TableShape } from './table-shape';
import { toRowIdText, toScalar } from './values';

/** Bounds on cached statements: shapes come from clients, so they must not grow without limit. */
export const TABLES_CACHED_MAX = 256;
export const STATEMENTS_PER_TABLE_MAX = 64;

export class TableCache {
  private readonly tables = new Map<string, TableAccess>();

  constructor(private readonly connection: Database.Database) {}

  /** The table's access object; throws TABLE_NOT_FOUND. */
  get(table_name: string): TableAccess {
    const cacheKey = table_name.toLowerCase();
    let access = this.tables.get(cacheKey);
    if (access === undefined) {
      access = new TableAccess(this.connection, loadTableShape(this.connection, table_name));
      if (this.tables.size >= TABLES_CACHED_MAX) this.tables.clear();
      this.tables.set(cacheKey, access);
    }
    return access;
  }

  clear(): void {
    this.tables.clear();
  }
}

export class TableAccess {
  /** The columns every row read returns, with the key first when row_id is not itself a column. */
  readonly select_list: string;
  private readonly key_prefixed: boolean;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly connection: Database.Database,
    readonly shape: TableShape,
  ) {
    const key = shape.key;
    this.key_prefixed = key.kind === 'rowid' || (key.kind === 'column' && key.column.toLowerCase() !== 'row_id');
    const columns = shape.columns.map((column) => quoteIdentifier(column.name));
    this.select_list = (this.key_prefixed ? [keyExpression(key), ...columns] : columns).join(', ');
  }

  get table(): string {
    return quoteIdentifier(this.shape.name);
  }

  /** The statement cached under `cacheKey`, prepared from `sql()` on first use (raw rows, safe integers). */
  statement(cacheKey: string, sql: () => string): Database.Statement {
    let statement = this.statements.get(cacheKey);
    if (statement === undefined) {
      statement = this.connection.prepare(sql()).safeIntegers(true);
      if (statement.reader) statement.raw(true);
      if (this.statements.size >= STATEMENTS_PER_TABLE_MAX) this.statements.clear();
      this.statements.set(cacheKey, statement);
    }
    return statement;
  }

  /** Turns one raw row of `select_list` into the API's row object. */
  toRow(values: readonly unknown[]): Record<string, Scalar> {
    const row: Record<string, Scalar> = {};
    let offset = 0;
    if (this.key_prefixed) {
      row.row_id = toRowIdText(values[0]);
      offset = 1;
    }
    const columns = this.shape.columns;
    for (let index = 0; index < columns.length; index++) {
      setField(row, columns[index].name, toScalar(values[index + offset]));
    }
    return row;
  }
}

/** A column may be named __proto__ (it matches the name pattern); plain assignment would set the prototype. */
function setField(row: Record<string, Scalar>, name: string, value: Scalar): void {
  if (name === '__proto__') Object.defineProperty(row, name, { value, enumerable: true, writable: true, configurable: true });
  else row[name] = value;
}
