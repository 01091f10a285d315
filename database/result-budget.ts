/**
 * A byte budget for the answer a read builds (and a write's RETURNING rows):
 * rows are counted as they come from SQLite, and the read stops with 400
 * RESULT_TOO_LARGE once the answer would pass `result_size_max_bytes`, so no
 * answer outgrows what JSON.stringify can hold (a V8 string is at most ~512 M
 * characters; the budget's ceiling in the config keeps even a string of
 * escapes, 6 characters each, below that). The count is the JSON text's
 * length, near enough: a string its length plus quotes, a blob its base64,
 * a number 24, and each value its column name (as associative rows repeat it).
 */
import { DdbError } from '../utils/errors';
import type { Scalar } from './commands';

export class ResultBudget {
  private used_bytes = 0;

  constructor(readonly result_size_max_bytes: number) {}

  /** Counts one row (values already turned into scalars); throws RESULT_TOO_LARGE over the budget. */
  addRow(row: readonly Scalar[], column_names_bytes: number): void {
    let bytes = column_names_bytes + 2;
    for (const value of row) bytes += scalarBytes(value);
    this.add(bytes);
  }

  add(bytes: number): void {
    this.used_bytes += bytes;
    if (this.used_bytes > this.result_size_max_bytes) {
      throw new DdbError(
        'RESULT_TOO_LARGE',
        `the answer is larger than result_size_max_bytes (${this.result_size_max_bytes} bytes); ask for fewer rows or columns (LIMIT, a WHERE clause, substr())`,
      );
    }
  }
}

function scalarBytes(value: Scalar): number {
  if (typeof value === 'string') return value.length + 3;
  return 24;
}

/** What the column names of a statement add to each row, as counted by addRow. */
export function columnNamesBytes(columns: readonly string[]): number {
  let bytes = 0;
  for (const name of columns) bytes += name.length + 4;
  return bytes;
}
