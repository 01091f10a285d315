/**
 * Runs the `sql` command: a script of statements, atomically. Each database
 * the script touches gets a transaction at its first statement; when the
 * script ends they all commit, and if any statement fails they all roll back
 * and the catalog (databases created, dropped, the default) is put back as it
 * was, so nothing of a failed script stays.
 *
 * `USE x` switches the database for the rest of its own script only. The
 * default database (where a command that names none runs) is replicated state
 * that only /init_database (and dropping the default) changes: if a USE moved
 * it, one client's script would move every other client's requests.
 */
import { DdbError } from '../utils/errors';
import type { Scalar, StatementResult } from './commands';
import { MAIN_DATABASE, validateName, type Catalog, type CatalogState, type DatabaseEntry } from './catalog';
import { parseDatabaseStatement, type DatabaseStatement } from './database-statements';
import { isInsertStatement, type ParsedStatement, type ScriptAnalysis } from './sql';
import { translateSqlError } from './sql-errors';
import { restorePinnedSettings } from './connection-settings';
import type { EngineLimits } from './limits';
import { ResultBudget, columnNamesBytes } from './result-budget';
import { inStatement } from './statement-errors';
import { explainedStatement } from './sql-sandbox';
import { quoteIdentifier } from './table-shape';
import { toScalarRow, type BindValue } from './values';

export type BindArguments = BindValue[] | Record<string, BindValue>[];

export interface ScriptEnvironment {
  readonly catalog: Catalog;
  readonly limits: EngineLimits;
  /** A new, empty database (not yet in the catalog). */
  openDatabase(name: string): DatabaseEntry;
  closeDatabase(entry: DatabaseEntry): void;
  /** After a commit: gives freed pages back (and may move the database to a fresh connection). */
  reclaim(entry: DatabaseEntry): void;
}

export const NO_CHANGES: StatementResult = { changes: 0, last_insert_rowid: 0 };

/**
 * Applies a script; returns one statement's result, or `{results}` for several.
 * `then: 'rollback'` runs it all and undoes it: the master's trial run of a
 * write, which measures its cost before the write may enter the log.
 */
export function runScript(
  environment: ScriptEnvironment,
  analysis: ScriptAnalysis,
  db_name: string | null,
  bind: BindArguments,
  then: 'commit' | 'rollback' = 'commit',
): unknown {
  const run = new ScriptRun(environment, db_name);
  const { database_size_max_bytes } = environment.limits;
  const check = analysis.mentions_pragma;
  try {
    const count = analysis.parsed.length;
    const results = analysis.parsed.map((statement, index) => inStatement(index, count, () => run.execute(statement, bind)));
    // A second wall behind the sandbox: a script that changed a setting every node must share fails.
    const changed = check ? restorePinnedSettings(run.connections(), database_size_max_bytes) : null;
    if (changed !== null) throw changed;
    if (then === 'rollback') run.rollback();
    else run.commit(analysis.temporary);
    return results.length === 1 ? results[0] : { results };
  } catch (error) {
    run.rollback();
    if (check) restorePinnedSettings(run.connections(), database_size_max_bytes);
    throw translateSqlError(error);
  }
}

class ScriptRun {
  private readonly saved: CatalogState;
  private readonly touched: DatabaseEntry[] = [];
  private readonly created: DatabaseEntry[] = [];
  private readonly budget: ResultBudget;
  /** The database statements run in; it may name a database this script dropped. */
  private current: string;

  constructor(
    private readonly environment: ScriptEnvironment,
    db_name: string | null,
  ) {
    this.saved = environment.catalog.save();
    this.budget = new ResultBudget(environment.limits.result_size_max_bytes);
    this.current = db_name ?? environment.catalog.defaultName();
  }

  execute(statement: ParsedStatement, bind: BindArguments): StatementResult {
    const special = parseDatabaseStatement(statement.tokens);
    if (special !== null) return this.executeDatabaseStatement(special);
    const entry = this.environment.catalog.resolve(this.current);
    this.begin(entry);
    return runStatement(entry, statement, bind, this.budget);
  }

  /** The connections the script has run statements on. */
  connections(): DatabaseEntry['connection'][] {
    return this.touched.map((entry) => entry.connection);
  }

  commit(temporary: boolean): void {
    const live = this.touched.filter((entry) => this.environment.catalog.find(entry.name) === entry);
    if (temporary) live.forEach(dropTemporaryObjects);
    // A COMMIT can fail only on a deferred foreign key; check them all before the first commit,
    // so a failure cannot leave one database committed and another not.
    if (live.length > 1) live.forEach(checkDeferredForeignKeys);
    live.forEach((entry, index) => {
      try {
        entry.connection.exec('COMMIT');
      } catch (error) {
        if (index > 0) throw new Error(`commit of ${entry.name} failed after others committed: ${String(error)}`);
        throw error;
      }
    });
    this.closeUnreachable();
    live.forEach((entry) => this.environment.reclaim(entry));
  }

  rollback(): void {
    for (const entry of this.touched) {
      if (entry.connection.open && entry.connection.inTransaction) entry.connection.exec('ROLLBACK');
    }
    this.environment.catalog.restore(this.saved);
    this.created.forEach((entry) => this.environment.closeDatabase(entry));
  }

  private begin(entry: DatabaseEntry): void {
    if (this.touched.includes(entry)) return;
    entry.connection.exec('BEGIN');
    this.touched.push(entry);
  }

  /** Closes databases this script dropped, now that the drop is committed. */
  private closeUnreachable(): void {
    const catalog = this.environment.catalog;
    const candidates = [...this.saved.entries.values(), ...this.created];
    for (const entry of candidates) {
      if (catalog.find(entry.name) !== entry) this.environment.closeDatabase(entry);
    }
  }

  private executeDatabaseStatement(statement: DatabaseStatement): StatementResult {
    const catalog = this.environment.catalog;
    switch (statement.type) {
      case 'create_database':
        this.createDatabase(statement.name, statement.if_not_exists);
        return NO_CHANGES;
      case 'drop_database':
        this.dropDatabase(statement.name, statement.if_exists);
        return NO_CHANGES;
      case 'use':
        this.current = catalog.resolve(statement.name).name;
        return NO_CHANGES;
      case 'show_databases':
        return { columns: ['name'], rows: catalog.names().map((name) => [name]) };
      case 'show_tables':
        return showTables(catalog.resolve(this.current));
    }
  }

  private createDatabase(name: string, if_not_exists: boolean): void {
    validateName(name, 'a database name');
    const catalog = this.environment.catalog;
    if (catalog.find(name) !== undefined) {
      if (if_not_exists) return;
      throw new DdbError('DATABASE_EXISTS', `database ${name} already exists`);
    }
    const entry = this.environment.openDatabase(name);
    this.created.push(entry);
    catalog.add(entry);
  }

  private dropDatabase(name: string, if_exists: boolean): void {
    const catalog = this.environment.catalog;
    const entry = catalog.find(name);
    if (entry === undefined) {
      if (if_exists) return;
      throw new DdbError('DATABASE_NOT_FOUND', `database ${name} does not exist`);
    }
    if (entry.name.toLowerCase() === MAIN_DATABASE) {
      throw new DdbError('SQL_ERROR', `database ${MAIN_DATABASE} cannot be dropped`);
    }
    catalog.remove(entry);
  }
}

/**
 * Runs one SQLite statement: a statement that returns rows gives them, any
 * other its changes and last_insert_rowid: the rowid of the last row this
 * statement inserted, 0 when it inserted none. SQLite's own last_insert_rowid()
 * is connection state that only an insert moves, so after any other statement
 * it still holds an earlier one's rowid; it is passed on only for an INSERT or
 * REPLACE that changed rows, which the statement's text tells without asking
 * SQLite again.
 */
export function runStatement(
  entry: DatabaseEntry,
  statement: ParsedStatement,
  bind: BindArguments,
  budget: ResultBudget,
): StatementResult {
  const prepared = entry.statements.prepare(statement.text);
  if (prepared.reader) {
    const columns = prepared.columns().map((column) => column.name);
    const names_bytes = columnNamesBytes(columns);
    budget.add(names_bytes + 32);
    const rows: Scalar[][] = [];
    // Row by row, counted: an answer too large for the budget stops before it is built.
    for (const values of prepared.iterate(...bind) as IterableIterator<unknown[]>) {
      const row = toScalarRow(values);
      budget.addRow(row, names_bytes);
      rows.push(row);
    }
    return { columns, rows };
  }
  const info = prepared.run(...bind);
  const inserted = info.changes > 0 && isInsertStatement(statement.tokens);
  return { changes: info.changes, last_insert_rowid: inserted ? Number(info.lastInsertRowid) : 0 };
}

export function showTables(entry: DatabaseEntry): StatementResult {
  const names = entry.connection
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
    .pluck()
    .all() as string[];
  return { columns: ['name'], rows: names.map((name): Scalar[] => [name]) };
}

/** TEMP objects live for one script: they are not in serialize() images, so keeping them would split nodes. */
function dropTemporaryObjects(entry: DatabaseEntry): void {
  const objects = entry.connection
    .prepare(
      "SELECT type, name FROM sqlite_temp_schema WHERE type IN ('trigger', 'view', 'table') " +
        "ORDER BY CASE type WHEN 'trigger' THEN 0 WHEN 'view' THEN 1 ELSE 2 END, name",
    )
    .all() as { type: string; name: string }[];
  for (const object of objects) {
    entry.connection.exec(`DROP ${object.type.toUpperCase()} IF EXISTS temp.${quoteIdentifier(object.name)}`);
  }
}

function checkDeferredForeignKeys(entry: DatabaseEntry): void {
  const connection = entry.connection;
  const deferrable = connection.prepare("SELECT 1 FROM sqlite_schema WHERE sql LIKE '%deferred%' LIMIT 1").get();
  if (deferrable === undefined) return;
  if (connection.prepare('PRAGMA foreign_key_check').get() !== undefined) {
    throw new DdbError('SQL_ERROR', `FOREIGN KEY constraint failed in database ${entry.name}`);
  }
}

/**
 * True when a statement only reads, checked by SQLite itself. SQLite calls
 * every EXPLAIN read-only, whatever it explains, so for `EXPLAIN x` the answer
 * is SQLite's verdict on x (which the sandbox and the classification have
 * already judged as if it were run).
 */
export function isReadOnlyStatement(entry: DatabaseEntry, statement: ParsedStatement): boolean {
  const inner = explainedStatement(statement.tokens);
  if (inner.length === 0) return false;
  if (inner !== statement.tokens) {
    const offset = statement.tokens[0].start;
    return entry.statements.prepare(statement.text.slice(inner[0].start - offset)).readonly;
  }
  return entry.statements.prepare(statement.text).readonly;
}
