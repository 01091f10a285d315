/**
 * Local reads of SQL: a script that classifyScript calls a read, run against
 * this node's state without going through the log. Three walls keep it from
 * writing, because a local write would make this node differ from the others:
 * the classification, SQLite's own verdict on each prepared statement
 * (`readonly`), and a transaction on every database it reads that is always
 * rolled back, which undoes anything that slipped past both.
 *
 * `USE x` switches the database for the rest of the script, as it does in a
 * write; it changes nothing else, so a read with a USE is still a read.
 */
import { DdbError } from '../utils/errors';
import type { Catalog, DatabaseEntry } from './catalog';
import type { StatementResult } from './commands';
import { parseDatabaseStatement } from './database-statements';
import { NO_CHANGES, isReadOnlyStatement, runStatement, showTables, type BindArguments } from './script-runner';
import type { ParsedStatement, ScriptAnalysis } from './sql';
import { inStatement } from './statement-errors';
import { restorePinnedSettings } from './connection-settings';
import type { EngineLimits } from './limits';
import { ResultBudget } from './result-budget';

export function readScript(
  catalog: Catalog,
  db_name: string | null,
  analysis: ScriptAnalysis,
  bind: BindArguments,
  limits: EngineLimits,
): unknown {
  if (analysis.kind !== 'read') {
    throw new DdbError('INVALID_REQUEST', 'this script writes; only read-only scripts run as a local query');
  }
  const read = new LocalRead(catalog, catalog.resolve(db_name), new ResultBudget(limits.result_size_max_bytes));
  let results: StatementResult[];
  try {
    const count = analysis.parsed.length;
    results = analysis.parsed.map((statement, index) => inStatement(index, count, () => read.statement(statement, bind)));
  } finally {
    read.rollback();
    // Behind the walls, a read that changed a connection setting every node must share (which
    // would make this node apply the log differently from the others) is refused, the setting put back.
    const changed = analysis.mentions_pragma ? restorePinnedSettings(read.connections(), limits.database_size_max_bytes) : null;
    if (changed !== null) throw changed; // eslint-disable-line no-unsafe-finally
  }
  return results.length === 1 ? results[0] : { results };
}

class LocalRead {
  private readonly begun: DatabaseEntry[] = [];

  constructor(
    private readonly catalog: Catalog,
    /** The database statements run in, until a USE names another. */
    private current: DatabaseEntry,
    private readonly budget: ResultBudget,
  ) {}

  statement(statement: ParsedStatement, bind: BindArguments): StatementResult {
    const special = parseDatabaseStatement(statement.tokens);
    if (special?.type === 'use') {
      this.current = this.catalog.resolve(special.name);
      return NO_CHANGES;
    }
    if (special?.type === 'show_databases') return { columns: ['name'], rows: this.catalog.names().map((name) => [name]) };
    const entry = this.current;
    this.begin(entry);
    if (special?.type === 'show_tables') return showTables(entry);
    if (special !== null || !isReadOnlyStatement(entry, statement)) {
      throw new DdbError('INVALID_REQUEST', `this statement writes; only read-only scripts run as a local query: ${statement.text}`);
    }
    return runStatement(entry, statement, bind, this.budget);
  }

  connections(): DatabaseEntry['connection'][] {
    return this.begun.map((entry) => entry.connection);
  }

  rollback(): void {
    for (const entry of this.begun) {
      if (entry.connection.inTransaction) entry.connection.exec('ROLLBACK');
    }
  }

  private begin(entry: DatabaseEntry): void {
    if (this.begun.includes(entry)) return;
    entry.connection.exec('BEGIN');
    this.begun.push(entry);
  }
}
