/**
 * Conversions between JSON scalars and SQLite values.
 *
 * Binding: better-sqlite3 binds every JS number as a REAL, so 1 would be stored
 * as 1.0 in a column without type affinity (and read back by
 * `CAST(x AS TEXT)` as '1.0'). Integers are therefore bound as BigInt, so they
 * stay INTEGER as they would in SQL text. Booleans become 1 and 0.
 *
 * Reading: statements run with safe integers, so an integer beyond 2^53 is not
 * silently rounded; it comes back as its decimal string instead. A BLOB comes
 * back as base64 (what rqlite does), since JSON has no bytes.
 */
import type { Scalar, SqlParams } from './commands';
import { DdbError } from '../utils/errors';

export type BindValue = string | number | bigint | null;

export function toBindValue(value: unknown, what: string): BindValue {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new DdbError('INVALID_REQUEST', `${what} must be a finite number`);
    return Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  throw new DdbError('INVALID_REQUEST', `${what} must be a JSON scalar (string, number, boolean or null)`);
}

/** Positional parameters as an array, named ones as an object keyed without the `:`/`@`/`$` prefix. */
export function toBindParameters(params: SqlParams | undefined): BindValue[] | Record<string, BindValue>[] {
  if (params === undefined) return [];
  if (Array.isArray(params)) return params.map((value, index) => toBindValue(value, `params[${index}]`));
  if (typeof params !== 'object' || params === null) {
    throw new DdbError('INVALID_REQUEST', 'params must be an array or an object');
  }
  const named: Record<string, BindValue> = {};
  for (const [key, value] of Object.entries(params)) {
    named[key.replace(/^[:@$]/, '')] = toBindValue(value, `params.${key}`);
  }
  return [named];
}

const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

export function toScalar(value: unknown): Scalar {
  if (typeof value === 'bigint') return value >= SAFE_MIN && value <= SAFE_MAX ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value === null || typeof value === 'string' || typeof value === 'number') return value;
  throw new Error(`toScalar: unexpected value of type ${typeof value} from SQLite`);
}

export function toScalarRow(values: readonly unknown[]): Scalar[] {
  const row = new Array<Scalar>(values.length);
  for (let index = 0; index < values.length; index++) row[index] = toScalar(values[index]);
  return row;
}

/** A row_id as the API shows it: always a string, whatever the key column holds. */
export function toRowIdText(value: unknown): string | null {
  const scalar = toScalar(value);
  return scalar === null ? null : String(scalar);
}

/** An unrounded integer row_id ("42", "-7"), the form an INTEGER key is looked up by. */
export function parseIntegerRowId(row_id: string): bigint | null {
  if (!/^(0|-?[1-9][0-9]{0,18})$/.test(row_id)) return null;
  const value = BigInt(row_id);
  return BigInt.asIntN(64, value) === value ? value : null;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
