/**
 * rqlite's `associative` form of SQL results. /query answers a read as
 * `{columns, rows}` with each row an array, unless the client asks for rows as
 * objects (`?associative`, `?associative=true` or `=1`, or `"associative": true`
 * in the body). The engine and the log know nothing of it: the answer is
 * turned here, at the edge, after the engine gave it.
 */
import { DdbError } from '../utils/errors';

/** What `?associative` may be: present (empty), true/1 to ask, false/0 to not. */
export const ASSOCIATIVE_QUERY_VALUES = ['', 'true', '1', 'false', '0'] as const;
export type AssociativeQueryValue = (typeof ASSOCIATIVE_QUERY_VALUES)[number];

interface ReadResult {
  columns: string[];
  rows: unknown[][];
}

/** Whether the request asks for objects; the body and the query string may both say so, not contradict each other. */
export function associativeRequested(body: boolean | undefined, query: AssociativeQueryValue | undefined): boolean {
  const fromQuery = query === undefined ? undefined : query !== 'false' && query !== '0';
  if (body !== undefined && fromQuery !== undefined && body !== fromQuery) {
    throw new DdbError('INVALID_REQUEST', `the body says associative ${body} and the query string says ${fromQuery}; give one`, {
      path: '/associative',
    });
  }
  return body ?? fromQuery ?? false;
}

/** The engine's answer (one statement's result or `{results}`) with every read's rows as objects. */
export function toAssociative(answer: unknown): unknown {
  if (isReadResult(answer)) return withObjectRows(answer);
  const results = (answer as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return answer;
  return { results: results.map((result: unknown) => (isReadResult(result) ? withObjectRows(result) : result)) };
}

function isReadResult(value: unknown): value is ReadResult {
  const candidate = value as Partial<ReadResult> | null;
  return typeof candidate === 'object' && candidate !== null && Array.isArray(candidate.columns) && Array.isArray(candidate.rows);
}

function withObjectRows(result: ReadResult): { columns: string[]; rows: Record<string, unknown>[] } {
  const keys = uniqueKeys(result.columns);
  // fromEntries defines own properties, so a column named __proto__ is a key like any other.
  const rows = result.rows.map((row) => Object.fromEntries(keys.map((key, index) => [key, row[index]])));
  return { columns: result.columns, rows };
}

/**
 * One key per column. A column whose name an earlier column already has gets
 * `:1`, `:2`, ... appended (the first that no column has), as SQLite names
 * the columns of CREATE TABLE ... AS SELECT: no value is lost to a clash.
 */
export function uniqueKeys(columns: readonly string[]): string[] {
  const taken = new Set(columns);
  const seen = new Set<string>();
  return columns.map((name) => {
    if (!seen.has(name)) {
      seen.add(name);
      return name;
    }
    let suffix = 1;
    while (taken.has(`${name}:${suffix}`)) suffix++;
    const key = `${name}:${suffix}`;
    taken.add(key);
    return key;
  });
}
