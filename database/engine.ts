/**
 * The engine: ddb's databases, each an in-memory SQLite database, changed
 * only by apply(command, context) in log order and read locally.
 *
 * apply is deterministic: the same commands with the same contexts give the
 * same results and byte-identical serialize() images on every node, whatever
 * its clock. The context (the master's clock reading and a seed) feeds the
 * replacements of SQLite's time and random functions; user errors are
 * results ({ok: false}), identical on every node; only programmer errors throw.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { DdbError, type ErrorBody } from '../utils/errors';
import { Catalog, MAIN_DATABASE, createEntry, validateName, type DatabaseEntry } from './catalog';
import type { ApplyContext, ApplyResult, Command, Scalar, SqlParams } from './commands';
import { pinConnection, readConnectionSettings, reclaimFreePages, worthReopening } from './connection-settings';
import { DeterministicFunctions } from './deterministic-functions';
import { ENGINE_LIMITS_DEFAULT, type EngineLimits } from './limits';
import { ResultBudget } from './result-budget';
import { readScript } from './read-script';
import { deleteRow, getRow, insertRow, searchRows, selectRows, updateRow, type Row, type Rows } from './row-commands';
import { runScript, type ScriptEnvironment } from './script-runner';
import { decodeSnapshot, encodeSnapshotParts, readSessionCounters, restoreSessionCounters, serializeConnection } from './snapshot';
import { analyzeScript } from './sql';
import { withSqlErrors } from './sql-errors';
import type { TableAccess } from './table-access';
import { createTable, dropTable } from './table-commands';
import { toBindParameters } from './values';

/** The databases of an image, opened and not yet in place (Engine.prepareRestore). */
export interface PreparedRestore {
  readonly entries: DatabaseEntry[];
  readonly default_db: string;
  open: boolean;
}

export class Engine {
  private readonly functions: DeterministicFunctions;
  private readonly catalog = new Catalog();
  private readonly environment: ScriptEnvironment;

  /** `limits` must be the same on every node: they decide apply results. */
  constructor(readonly limits: EngineLimits = ENGINE_LIMITS_DEFAULT) {
    this.functions = new DeterministicFunctions(limits);
    this.environment = {
      catalog: this.catalog,
      limits,
      openDatabase: (name) => createEntry(name, this.openConnection()),
      closeDatabase: (entry) => entry.connection.close(),
      reclaim: (entry) => this.reclaim(entry),
    };
    this.catalog.add(createEntry(MAIN_DATABASE, this.openConnection()));
  }

  apply(command: Command, context: ApplyContext): ApplyResult {
    this.functions.beginApply(context);
    try {
      return { ok: true, value: this.execute(command) };
    } catch (error) {
      if (error instanceof DdbError) return { ok: false, error: toErrorBody(error) };
      throw error;
    } finally {
      this.functions.endApply();
    }
  }

  /**
   * Runs a SQL write exactly as apply would, then undoes it, leaving the state
   * as it was: the trial run in which the master measures a write before
   * proposing it (src/node/sql-executor/). Other commands cost bounded work and
   * need no trial.
   */
  trial(command: Command, context: ApplyContext): ApplyResult {
    if (command.type !== 'sql') return { ok: true, value: null };
    this.functions.beginApply(context);
    try {
      return { ok: true, value: this.runSql(command.db_name, command.script, command.params, 'rollback') };
    } catch (error) {
      if (error instanceof DdbError) return { ok: false, error: toErrorBody(error) };
      throw error;
    } finally {
      this.functions.endApply();
    }
  }

  defaultDatabase(): string {
    return this.catalog.defaultName();
  }

  listDatabases(): string[] {
    return this.catalog.names();
  }

  select(db_name: string | null, table_name: string): Rows {
    return withSqlErrors(() => selectRows(this.table(db_name, table_name), this.budget()));
  }

  search(db_name: string | null, table_name: string, column: string, value: string): Rows {
    return withSqlErrors(() => searchRows(this.table(db_name, table_name), column, value, this.budget()));
  }

  getRow(db_name: string | null, table_name: string, row_id: string): Record<string, Scalar> | null {
    return withSqlErrors(() => getRow(this.table(db_name, table_name), row_id));
  }

  /** Runs a read-only script (as classifyScript sees it) against local state, with the real clock. */
  query(db_name: string | null, script: string, params?: SqlParams): unknown {
    const analysis = analyzeScript(script);
    const bind = bindArguments(analysis.parsed.length, params);
    return readScript(this.catalog, db_name, analysis, bind, this.limits);
  }

  /** The pinned connection settings of one database as they are now (connection-settings.ts): tests check no statement moves them. */
  connectionSettings(db_name: string | null): Record<string, number> {
    return readConnectionSettings(this.catalog.resolve(db_name).connection);
  }

  /** One database's serialize() image, for checks that two nodes hold the same bytes. */
  serializeDatabase(db_name: string | null): Uint8Array {
    return serializeConnection(this.catalog.resolve(db_name).connection);
  }

  snapshot(): Uint8Array {
    return Buffer.concat(this.snapshotParts());
  }

  /**
   * sha256 of the default database's name and of every database's name and
   * bytes, in name order (not the session counters: a trial run's rollback
   * moves them in the executor that runs it); null when the databases
   * together are over `bytes_max` (hashing them would hold the thread too
   * long). Like apply, deterministic: nodes that hold the same data give the
   * same hash (the simulator checks their images are the same bytes).
   */
  dataHash(bytes_max: number): string | null {
    const entries = [...this.catalog.all()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let bytes = 0;
    for (const { connection } of entries) {
      bytes += (connection.prepare('PRAGMA page_count').pluck().get() as number) * (connection.prepare('PRAGMA page_size').pluck().get() as number);
    }
    if (bytes > bytes_max) return null;
    const hash = createHash('sha256').update(JSON.stringify(this.catalog.defaultName()));
    for (const { name, connection } of entries) {
      hash.update(JSON.stringify(name)).update(serializeConnection(connection));
    }
    return hash.digest('hex');
  }

  /** snapshot() as parts to write in order: a large database is not copied once more into one buffer. */
  snapshotParts(): Uint8Array[] {
    const databases = this.catalog.all().map((entry) => ({
      name: entry.name,
      image: serializeConnection(entry.connection),
      counters: readSessionCounters(entry.connection),
    }));
    return encodeSnapshotParts({ default_db: this.catalog.defaultName(), databases });
  }

  /** Replaces all state from a snapshot() image; throws Error (and keeps the old state) if it is not one. */
  restore(image: Uint8Array): void {
    this.adopt(this.prepareRestore(image));
  }

  /**
   * Opens the databases of a snapshot() image beside the current ones, which
   * stay as they are; throws Error if it is not one. adopt() then swaps them
   * in, or discard() closes them: a node loads an image once, when it
   * arrives, and installs that very load (not a second one) if the replica
   * takes the snapshot.
   */
  prepareRestore(image: Uint8Array): PreparedRestore {
    const contents = decodeSnapshot(image);
    const entries: DatabaseEntry[] = [];
    try {
      for (const database of contents.databases) {
        validateName(database.name, 'snapshot database name');
        const connection = this.openConnection(database.image);
        entries.push(createEntry(database.name, connection));
        connection.prepare('SELECT count(*) FROM sqlite_schema').get(); // "file is not a database" surfaces here
        restoreSessionCounters(connection, database.counters);
      }
      const prepared = { entries, default_db: contents.default_db, open: true };
      this.catalog.checkReplacement(entries, contents.default_db);
      return prepared;
    } catch (error) {
      entries.forEach((entry) => entry.connection.close());
      throw new Error(`restore: not a valid snapshot: ${String((error as { message?: unknown } | null)?.message ?? error)}`);
    }
  }

  adopt(prepared: PreparedRestore): void {
    if (!prepared.open) throw new Error('adopt: that restore was discarded or adopted already');
    prepared.open = false;
    const replaced = this.catalog.replaceAll(prepared.entries, prepared.default_db);
    replaced.forEach((entry) => entry.connection.close());
  }

  discard(prepared: PreparedRestore): void {
    if (!prepared.open) return;
    prepared.open = false;
    prepared.entries.forEach((entry) => entry.connection.close());
  }

  close(): void {
    this.catalog.all().forEach((entry) => entry.connection.close());
    this.functions.close();
  }

  private execute(command: Command): unknown {
    switch (command.type) {
      case 'init_database':
        return this.initDatabase(command.db_name);
      case 'create_table':
        return this.changeSchema(command.db_name, (entry) => createTable(entry, command.table_name, command.columns));
      case 'drop_table':
        return this.reclaiming(command.db_name, () => this.changeSchema(command.db_name, (entry) => dropTable(entry, command.table_name)));
      case 'insert':
        return withSqlErrors(() => insertRow(this.table(command.db_name, command.table_name), command.row_id, command.data));
      case 'update':
        return this.reclaiming(command.db_name, () => updateRow(this.table(command.db_name, command.table_name), command.row_id, command.new_data));
      case 'delete_row':
        return this.reclaiming(command.db_name, () => deleteRow(this.table(command.db_name, command.table_name), command.row_id));
      case 'sql':
        return this.runSql(command.db_name, command.script, command.params);
      default:
        throw new Error(`apply: unknown command type ${String((command as { type: unknown }).type)}`);
    }
  }

  private initDatabase(db_name: string): { db_name: string; created: boolean } {
    validateName(db_name, 'db_name');
    const existing = this.catalog.find(db_name);
    if (existing !== undefined) {
      this.catalog.setDefault(existing.name);
      return { db_name: existing.name, created: false };
    }
    const entry = createEntry(db_name, this.openConnection());
    try {
      this.catalog.add(entry);
    } catch (error) {
      entry.connection.close(); // over the database limit
      throw error;
    }
    this.catalog.setDefault(db_name);
    return { db_name, created: true };
  }

  /** Runs a row command that may free pages, then gives them back (SQL scripts do so at commit). */
  private reclaiming<T>(db_name: string | null, work: () => T): T {
    const value = withSqlErrors(work);
    const entry = this.catalog.find(db_name ?? this.catalog.defaultName());
    if (entry !== undefined) this.reclaim(entry);
    return value;
  }

  /**
   * Gives a database's free pages back; when that shrank it a lot, moves it to a
   * fresh connection opened from its image, because SQLite's in-memory file keeps
   * the memory it once grew to. The image is the same bytes and the session
   * counters go along (as in a snapshot restore), so this changes nothing a
   * statement can see, and a node that does it at another time stays the same.
   */
  private reclaim(entry: DatabaseEntry): void {
    const reclaimed = reclaimFreePages(entry.connection, this.limits.database_size_max_bytes);
    if (reclaimed === null || !worthReopening(reclaimed) || this.catalog.find(entry.name) !== entry) return;
    const connection = this.openConnection(serializeConnection(entry.connection));
    restoreSessionCounters(connection, readSessionCounters(entry.connection));
    this.catalog.replace(entry, createEntry(entry.name, connection));
    entry.connection.close();
  }

  private changeSchema(db_name: string | null, change: (entry: DatabaseEntry) => unknown): unknown {
    const entry = this.catalog.resolve(db_name);
    try {
      return withSqlErrors(() => change(entry));
    } finally {
      entry.tables.clear();
    }
  }

  private runSql(db_name: string | null, script: unknown, params: SqlParams | undefined, then: 'commit' | 'rollback' = 'commit'): unknown {
    if (typeof script !== 'string') throw new DdbError('INVALID_REQUEST', 'script must be a string');
    const analysis = analyzeScript(script);
    const bind = bindArguments(analysis.parsed.length, params);
    try {
      return runScript(this.environment, analysis, db_name, bind, then);
    } finally {
      // A schema may have changed (or changed and rolled back): cached table shapes may be stale.
      if (analysis.privileged) this.catalog.all().forEach((entry) => entry.tables.clear());
    }
  }

  private budget(): ResultBudget {
    return new ResultBudget(this.limits.result_size_max_bytes);
  }

  private table(db_name: string | null, table_name: unknown): TableAccess {
    if (typeof table_name !== 'string' || table_name.length === 0) {
      throw new DdbError('INVALID_REQUEST', 'table_name must be a non-empty string');
    }
    return withSqlErrors(() => this.catalog.resolve(db_name).tables.get(table_name));
  }

  /**
   * Every connection starts from an (empty) serialized image rather than
   * ':memory:': SQLite keeps the file change counter in the header only for
   * deserialized databases, so a database created here and one restored from
   * a snapshot would otherwise write different header bytes for the same commits.
   */
  private openConnection(image: Buffer = Buffer.alloc(0)): Database.Database {
    const connection = new Database(image);
    this.functions.register(connection);
    pinConnection(connection, this.limits.database_size_max_bytes);
    return connection;
  }
}

function bindArguments(statementCount: number, params: SqlParams | undefined): ReturnType<typeof toBindParameters> {
  if (params !== undefined && statementCount > 1) {
    throw new DdbError('INVALID_REQUEST', 'params are allowed only with a script of a single statement');
  }
  return toBindParameters(params);
}

function toErrorBody(error: DdbError): ErrorBody {
  const body: ErrorBody = { code: error.code, message: error.message };
  if (Object.keys(error.details).length > 0) body.details = error.details;
  return body;
}

export type { Row, Rows };
