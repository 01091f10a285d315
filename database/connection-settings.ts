/**
 * Connection settings every node must share. Some PRAGMAs change how a
 * connection reads or writes (LIKE's case, CHECK constraints, foreign keys,
 * query_only, ...) without changing a byte of the database: a node whose
 * connection differed would apply the same log and end with different data.
 * The sandbox refuses the statements that set them; as a second wall the
 * engine pins them when it opens a connection, and after every SQL script
 * (read or write) that mentions a pragma (the only SQL that can set them, see
 * mentionsPragma) it reads them back: a script that changed one is refused
 * and the setting put back, so no statement can leave a node different.
 *
 * The quota (max_page_count) is pinned here too: SQLite keeps it per
 * connection, not in the database file, so a restored image needs it again.
 * auto_vacuum=INCREMENTAL is set on every new database before its first table
 * (it is then stored in the file, so snapshot images keep it), which lets the
 * engine give freed pages back (reclaimFreePages).
 */
import type Database from 'better-sqlite3';
import { DdbError } from '../utils/errors';

/** The engine's value of each pinned flag: SQLite's defaults as better-sqlite3 12 builds it. */
export const PINNED_FLAGS: Readonly<Record<string, number>> = {
  case_sensitive_like: 0,
  ignore_check_constraints: 0,
  query_only: 0,
  recursive_triggers: 0,
  foreign_keys: 1,
  reverse_unordered_selects: 0,
  defer_foreign_keys: 0,
  legacy_alter_table: 0,
  writable_schema: 0,
  trusted_schema: 1,
  cell_size_check: 0,
  secure_delete: 0,
  automatic_index: 1,
  analysis_limit: 0,
};

/** SQLite's auto_vacuum value for INCREMENTAL. */
const AUTO_VACUUM_INCREMENTAL = 2;

const READABLE_FLAGS = Object.keys(PINNED_FLAGS).filter((name) => name !== 'case_sensitive_like');

/**
 * One statement reads them all (~20 µs). case_sensitive_like cannot be read
 * back as a pragma; its effect can: 'a' LIKE 'A' is true only without it.
 */
const READ_SETTINGS_SQL =
  'SELECT ' +
  READABLE_FLAGS.map((name) => `(SELECT * FROM pragma_${name}) AS ${name}`).join(', ') +
  ", ('a' LIKE 'A') = 0 AS case_sensitive_like, (SELECT * FROM pragma_max_page_count) AS max_page_count, (SELECT * FROM pragma_page_size) AS page_size";

export interface ConnectionSettings {
  /** max_page_count: the database's quota in pages. */
  readonly page_count_max: number;
}

/** Pages of `page_size` bytes that fit in a quota of `database_size_max_bytes`. */
export function pagesFor(database_size_max_bytes: number, page_size_bytes: number): number {
  return Math.max(1, Math.floor(database_size_max_bytes / page_size_bytes));
}

/** Sets every pinned flag and the quota on a connection (a new database or one restored from an image). */
export function pinConnection(connection: Database.Database, database_size_max_bytes: number): void {
  if (connection.prepare('PRAGMA page_count').pluck().get() === 0) {
    // A new database: takes effect before the first table and is stored in the file from then
    // on (an image keeps it), so it is set once, never again on a restored image.
    connection.exec(`PRAGMA auto_vacuum = ${AUTO_VACUUM_INCREMENTAL}`);
  }
  for (const [name, value] of Object.entries(PINNED_FLAGS)) connection.exec(`PRAGMA ${name} = ${value}`);
  pinQuota(connection, database_size_max_bytes);
}

function pinQuota(connection: Database.Database, database_size_max_bytes: number): void {
  const page_size = connection.prepare('PRAGMA page_size').pluck().get() as number;
  // SQLite never sets max_page_count below the current page count; an over-quota
  // database (restored from an image made with a larger quota) can then only shrink.
  connection.exec(`PRAGMA max_page_count = ${pagesFor(database_size_max_bytes, page_size)}`);
}

/** Statements the checks run on each connection, prepared once. */
const prepared = new WeakMap<Database.Database, { settings: Database.Statement; free: Database.Statement; pages: Database.Statement }>();

function statementsOf(connection: Database.Database): { settings: Database.Statement; free: Database.Statement; pages: Database.Statement } {
  let statements = prepared.get(connection);
  if (statements === undefined) {
    statements = {
      settings: connection.prepare(READ_SETTINGS_SQL),
      free: connection.prepare('PRAGMA freelist_count').pluck(),
      pages: connection.prepare('PRAGMA page_count').pluck(),
    };
    prepared.set(connection, statements);
  }
  return statements;
}

/** The pinned settings of a connection as it is now. */
export function readConnectionSettings(connection: Database.Database): Record<string, number> {
  return statementsOf(connection).settings.get() as Record<string, number>;
}

/** The pinned settings that differ from the engine's values (max_page_count included). */
export function changedSettings(connection: Database.Database, database_size_max_bytes: number): string[] {
  const now = readConnectionSettings(connection);
  const changed = Object.entries(PINNED_FLAGS)
    .filter(([name, value]) => Number(now[name]) !== value)
    .map(([name]) => name);
  const page_count_max = pagesFor(database_size_max_bytes, Number(now.page_size));
  // SQLite never lowers max_page_count below the pages a database has, so one restored over
  // its quota (from a node with a larger one) keeps its size as the limit until it shrinks
  // (reclaimFreePages pins it again then): the pinned value is the larger of the two.
  const pages = statementsOf(connection).pages.get() as number;
  if (Number(now.max_page_count) !== Math.max(page_count_max, pages)) changed.push('max_page_count');
  return changed;
}

/**
 * Checks the connections a script ran on; puts back what changed. Returns the
 * error to refuse the script with, or null when nothing changed.
 */
export function restorePinnedSettings(
  connections: readonly Database.Database[],
  database_size_max_bytes: number,
): DdbError | null {
  const changed = new Set<string>();
  for (const connection of connections) {
    if (!connection.open) continue;
    const names = changedSettings(connection, database_size_max_bytes);
    if (names.length === 0) continue;
    names.forEach((name) => changed.add(name));
    pinConnection(connection, database_size_max_bytes);
  }
  if (changed.size === 0) return null;
  return new DdbError(
    'FORBIDDEN_STATEMENT',
    `the script changed the connection setting ${[...changed].join(', ')}, which every node must share; it was put back`,
  );
}

/** Pages freed back: how many the database had before, and has now. */
export interface Reclaimed {
  pages_before: number;
  pages_after: number;
}

/**
 * Gives the pages DELETE and UPDATE freed back (the database shrinks), so a
 * deleted large value does not keep its space. Deterministic: every node has
 * the same pages at the same point of the log. Null when nothing was free.
 */
export function reclaimFreePages(connection: Database.Database, database_size_max_bytes: number): Reclaimed | null {
  if (!connection.open || connection.inTransaction) return null;
  const statements = statementsOf(connection);
  if (statements.free.get() === 0) return null;
  const pages_before = statements.pages.get() as number;
  connection.exec('PRAGMA incremental_vacuum');
  const pages_after = statements.pages.get() as number;
  if (pages_before > pagesFor(database_size_max_bytes, 4096)) pinQuota(connection, database_size_max_bytes);
  return { pages_before, pages_after };
}

/**
 * SQLite's in-memory file keeps the memory it grew to when it shrinks, so a
 * database that gave back many pages is worth moving to a fresh copy of its
 * image (engine.ts does it): at least 16 MiB and half its pages.
 */
export function worthReopening(reclaimed: Reclaimed, page_size_bytes = 4096): boolean {
  const freed_bytes = (reclaimed.pages_before - reclaimed.pages_after) * page_size_bytes;
  return freed_bytes >= 16 * 1024 * 1024 && reclaimed.pages_after * 2 <= reclaimed.pages_before;
}
