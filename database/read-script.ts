/**
 * Local reads of SQL: a script that classifyScript calls a read, run against
 * this node's state without going through the log. Three walls keep it from
 * writing, because a local write would make this node differ from the others:
 * the classification, SQLite's own verdict on each prepared statement
 * (`readonly`), and a transaction that is always rolled back, which undoes
 * anything that slipped past both.
 */
import { DdbError } from '../utils/errors';
import type { Catalog, DatabaseEntry } from './catalog';
import type { StatementResult } from './commands';
import { parseDatabaseStatement } from './database-statements';
import { isReadOnlyStatement, runStatement, showTables, type BindArguments } from './script-runner';
import type { ParsedStatement, ScriptAnalysis } from './sql';
import { withSqlErrors } from './sql-errors';

export function readScript(entry: DatabaseEntry, analysis: ScriptAnalysis, bind: BindArguments, catalog: Catalog): unknown {
  if (analysis.kind !== 'read') {
    throw new DdbError('INVALID_REQUEST', 'this script writes; only read-only scripts run as a local query');
  }
  const connection = entry.connection;
  connection.exec('BEGIN');
  try {
    const results = withSqlErrors(() => analysis.parsed.map((statement) => readStatement(entry, statement, bind, catalog)));
    return results.length === 1 ? results[0] : { results };
  } finally {
    if (connection.inTransaction) connection.exec('ROLLBACK');
  }
}

function readStatement(entry: DatabaseEntry, statement: ParsedStatement, bind: BindArguments, catalog: Catalog): StatementResult {
  const special = parseDatabaseStatement(statement.tokens);
  if (special?.type === 'show_databases') return { columns: ['name'], rows: catalog.names().map((name) => [name]) };
  if (special?.type === 'show_tables') return showTables(entry);
  if (special !== null || !isReadOnlyStatement(entry, statement)) {
    throw new DdbError('INVALID_REQUEST', `this statement writes; only read-only scripts run as a local query: ${statement.text}`);
  }
  return runStatement(entry, statement.text, bind);
}
