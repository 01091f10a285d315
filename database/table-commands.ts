/**
 * /create_table and /delete_table. A table made here is `row_id TEXT PRIMARY
 * KEY` plus the declared columns, without types: SQLite then applies no type
 * affinity, so every value is stored exactly as the client sent it.
 *
 * The rules for a table's columns live here once: the handler checks a
 * request with validateColumns before it enters the log, apply checks the
 * command again, and either way the error carries the body's `path`.
 */
import { DdbError } from '../utils/errors';
import { validateName, type DatabaseEntry } from './catalog';
import { quoteIdentifier } from './table-shape';

/**
 * Below SQLite's own limit of 2000 (row_id included), and the most fields a
 * row's data may carry in one request (handlers/schemas.ts), so every column
 * can be written at once.
 */
export const COLUMNS_PER_TABLE_MAX = 1000;

export function createTable(entry: DatabaseEntry, table_name: unknown, columns: unknown): { table_name: string; columns: string[] } {
  const name = validateName(table_name, 'table_name', '/table_name');
  const names = validateColumns(columns);
  const existing = schemaObjectType(entry, name);
  if (existing !== undefined) {
    throw new DdbError('TABLE_EXISTS', `${existing === 'table' ? 'table' : `a ${existing}`} named ${name} already exists`);
  }
  const definitions = ['"row_id" TEXT PRIMARY KEY', ...names.map(quoteIdentifier)].join(', ');
  entry.connection.exec(`CREATE TABLE ${quoteIdentifier(name)} (${definitions})`);
  return { table_name: name, columns: names };
}

export function dropTable(entry: DatabaseEntry, table_name: unknown): { table_name: string } {
  if (typeof table_name !== 'string' || table_name.length === 0) {
    throw new DdbError('INVALID_REQUEST', 'table_name must be a non-empty string');
  }
  const row = entry.connection
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE")
    .get(table_name) as { name: string } | undefined;
  if (row === undefined) throw new DdbError('TABLE_NOT_FOUND', `table ${table_name} does not exist`);
  entry.connection.exec(`DROP TABLE ${quoteIdentifier(row.name)}`);
  return { table_name: row.name };
}

/** The declared columns, checked: names, at most COLUMNS_PER_TABLE_MAX, no row_id, none twice (in any case). */
export function validateColumns(columns: unknown): string[] {
  if (!Array.isArray(columns)) throw new DdbError('INVALID_REQUEST', 'columns must be an array of names', { path: '/columns' });
  if (columns.length > COLUMNS_PER_TABLE_MAX) {
    throw new DdbError('INVALID_REQUEST', `a table may have at most ${COLUMNS_PER_TABLE_MAX} columns`, { path: '/columns' });
  }
  const seen = new Set<string>();
  return columns.map((column, index) => {
    const path = `/columns/${index}`;
    const name = validateName(column, `columns[${index}]`, path);
    const lower = name.toLowerCase();
    if (lower === 'row_id') {
      throw new DdbError('INVALID_REQUEST', 'row_id is added by ddb and cannot be declared as a column', { path });
    }
    if (seen.has(lower)) throw new DdbError('INVALID_REQUEST', `column ${name} is declared twice (names ignore case)`, { path });
    seen.add(lower);
    return name;
  });
}

function schemaObjectType(entry: DatabaseEntry, name: string): string | undefined {
  const row = entry.connection
    .prepare('SELECT type FROM sqlite_schema WHERE name = ? COLLATE NOCASE')
    .get(name) as { type: string } | undefined;
  return row?.type;
}
