/**
 * Which statement of a script failed. A script of several statements is one
 * command, so without this its error would not say where it went wrong: the
 * error of statement i carries `statement_index: i` (counted from 0) beside
 * its code, and its message begins `statement i: `. The error of a single
 * statement is left as it is. For a write the error is a result of apply like
 * any other, so it reaches the client in the ApplyResult's details, the same
 * on every node.
 */
import { DdbError } from '../utils/errors';
import { translateSqlError } from './sql-errors';

/** Runs `work` for statement `index` of a script of `count`; SQLite's errors become SQL_ERROR, named by index. */
export function inStatement<T>(index: number, count: number, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw atStatement(translateSqlError(error), index, count);
  }
}

/** Programmer errors (anything but a DdbError) pass through unchanged. */
function atStatement(error: unknown, index: number, count: number): unknown {
  if (count < 2 || !(error instanceof DdbError) || 'statement_index' in error.details) return error;
  return new DdbError(error.code, `statement ${index}: ${error.message}`, { ...error.details, statement_index: index });
}
