/**
 * Prepared statements of SQL scripts, kept per connection by their text, so a
 * client repeating a parameterized statement pays for SQLite's parse once.
 * Least recently used first out. SQLite re-prepares a cached statement by
 * itself when the schema changes, so the cache needs no invalidation.
 */
import type Database from 'better-sqlite3';

export const SCRIPT_STATEMENTS_CACHED_MAX = 128;
/** Longer statements (bulk inserts) are prepared each time: caching them would hold their text. */
export const SCRIPT_STATEMENT_CACHED_CHARS_MAX = 4096;

export class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly connection: Database.Database) {}

  /** Prepares (or reuses) a statement; reader statements return raw rows; integers stay exact. */
  prepare(text: string): Database.Statement {
    if (text.length > SCRIPT_STATEMENT_CACHED_CHARS_MAX) return prepareFresh(this.connection, text);
    let statement = this.statements.get(text);
    if (statement !== undefined) {
      this.statements.delete(text); // re-inserted below as the most recently used
    } else {
      statement = prepareFresh(this.connection, text);
    }
    this.statements.set(text, statement);
    if (this.statements.size > SCRIPT_STATEMENTS_CACHED_MAX) {
      const oldest = this.statements.keys().next().value as string;
      this.statements.delete(oldest);
    }
    return statement;
  }
}

function prepareFresh(connection: Database.Database, text: string): Database.Statement {
  const statement = connection.prepare(text).safeIntegers(true);
  if (statement.reader) statement.raw(true);
  return statement;
}
