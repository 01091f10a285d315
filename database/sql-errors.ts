/**
 * SQLite's errors are results, not crashes: every node gets the same one for
 * the same entry, so they become SQL_ERROR with SQLite's own message (and its
 * extended code, e.g. SQLITE_CONSTRAINT_UNIQUE, as a detail). Anything else
 * thrown is a programmer error and passes through unchanged.
 */
import { DdbError } from '../utils/errors';

export function translateSqlError(error: unknown): unknown {
  if (error instanceof DdbError) return error;
  // Compared by name, not instanceof: the native addon is loaded once per process and keeps
  // the first SqliteError class it saw, and its RangeErrors come from the main realm, so
  // instanceof fails whenever modules are loaded again (as jest does for each test file).
  if (isNamedError(error, 'SqliteError')) {
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_FULL') {
      // max_page_count (connection-settings.ts): every node has the same pages, so every node refuses alike.
      return new DdbError('QUOTA_EXCEEDED', 'the database is full: it would grow past database_size_max_bytes', { sqlite_code: code });
    }
    if (code === 'SQLITE_TOOBIG') {
      return new DdbError('VALUE_TOO_LARGE', `${error.message}: a value may be at most SQLite's 1,000,000,000 bytes`, { sqlite_code: code });
    }
    return new DdbError('SQL_ERROR', error.message, typeof code === 'string' ? { sqlite_code: code } : {});
  }
  // better-sqlite3 reports parameter mistakes ("Too few parameter values were
  // provided", "Missing named parameter") as RangeError.
  if (isNamedError(error, 'RangeError')) return new DdbError('SQL_ERROR', error.message);
  return error;
}

function isNamedError(error: unknown, name: string): error is { name: string; message: string } {
  const candidate = error as { name?: unknown; message?: unknown } | null;
  return typeof candidate === 'object' && candidate !== null && candidate.name === name && typeof candidate.message === 'string';
}

/** Runs `work`, turning SQLite's errors into SQL_ERROR. */
export function withSqlErrors<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw translateSqlError(error);
  }
}
