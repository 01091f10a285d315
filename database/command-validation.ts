/**
 * The shape of a replicated Command (commands.ts), checked by hand: the same
 * rules the public API's schemas apply to a request (handlers/schemas.ts) —
 * a known type, names that are identifiers, scalars for values, the same
 * counts and lengths — applied to the command a request becomes. A peer's
 * forwarded write and every entry a peer sends are checked with it before
 * they reach the log (src/replication/peer-validation.ts), and apply checks
 * every committed command with it again, so a bad command already in a log
 * is an error result, never a crash.
 *
 * It walks the command once and measures it on the way, without encoding
 * it again: `bytes` is the UTF-8 size of its strings and keys (a database
 * name aside: it may come from the query string), 1 per number and 4 per
 * boolean or null. The JSON body a client sends for the same command carries
 * all of those at least as long, so a command the public API accepted is
 * never over body_limit_bytes here; what the measure leaves out (quotes,
 * colons, escapes) is bounded by the field and length limits.
 */
import { NAME_PATTERN } from './catalog';
import { COLUMNS_PER_TABLE_MAX } from './table-commands';

/** As handlers/schemas.ts: rowId, rowData, queryBodySchema. */
export const ROW_ID_CHARS_MAX = 512;
export const ROW_FIELDS_MAX = 1000;
export const SCRIPT_CHARS_MAX = 1_000_000;
export const PARAMS_MAX = 999;

const COMMAND_FIELDS: Record<string, readonly string[]> = {
  init_database: ['type', 'db_name'],
  create_table: ['type', 'db_name', 'table_name', 'columns'],
  drop_table: ['type', 'db_name', 'table_name'],
  insert: ['type', 'db_name', 'table_name', 'row_id', 'data'],
  update: ['type', 'db_name', 'table_name', 'row_id', 'new_data'],
  delete_row: ['type', 'db_name', 'table_name', 'row_id'],
  sql: ['type', 'db_name', 'script', 'params'],
};
const REQUIRED: Record<string, number> = { init_database: 2, create_table: 4, drop_table: 3, insert: 5, update: 5, delete_row: 4, sql: 3 };

export class InvalidCommand extends Error {
  override name = 'InvalidCommand';
}

function fail(message: string): never {
  throw new InvalidCommand(message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Names seen to match NAME_PATTERN: a batch names the same table and columns
 * over and over, and a set lookup is several times cheaper than the regex.
 * Bounded: cleared when full.
 */
const known_names = new Set<string>();
const KNOWN_NAMES_MAX = 4096;

function name(value: unknown, what: string): number {
  if (typeof value !== 'string') fail(`${what} must be an identifier`);
  if (!known_names.has(value)) {
    if (!NAME_PATTERN.test(value)) fail(`${what} must be an identifier`);
    if (known_names.size >= KNOWN_NAMES_MAX) known_names.clear();
    known_names.add(value);
  }
  return value.length;
}

function scalar(value: unknown, what: string): number {
  switch (typeof value) {
    case 'string':
      return Buffer.byteLength(value);
    case 'number':
      if (!Number.isFinite(value)) fail(`${what} must be a finite number`);
      return 1;
    case 'boolean':
      return 4;
    default:
      if (value === null) return 4;
      return fail(`${what} must be a JSON scalar`);
  }
}

function row(value: unknown, what: string, fields_min: number): number {
  if (!isObject(value)) fail(`${what} must be an object`);
  let bytes = 0;
  let count = 0;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    count += 1;
    if (count > ROW_FIELDS_MAX) fail(`${what} has more than ${ROW_FIELDS_MAX} fields`);
    bytes += name(key, `a field name of ${what}`) + scalar(value[key], `${what}.${key}`);
  }
  if (count < fields_min) fail(`${what} must name at least ${fields_min} column`);
  return bytes;
}

function params(value: unknown): number {
  let bytes = 0;
  if (Array.isArray(value)) {
    if (value.length > PARAMS_MAX) fail(`params has more than ${PARAMS_MAX} values`);
    for (let index = 0; index < value.length; index += 1) bytes += scalar(value[index], `params[${index}]`);
    return bytes;
  }
  if (!isObject(value)) fail('params must be an array or an object');
  let count = 0;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    count += 1;
    if (count > PARAMS_MAX) fail(`params has more than ${PARAMS_MAX} values`);
    bytes += Buffer.byteLength(key) + scalar(value[key], `params.${key}`);
  }
  return bytes;
}

/** Checked, but not counted: it may come from `?db=`, outside the body. */
function database(value: unknown): number {
  if (value !== null) name(value, 'db_name');
  return 0;
}

function rowId(value: unknown): number {
  if (typeof value !== 'string' || value.length === 0 || value.length > ROW_ID_CHARS_MAX) {
    fail(`row_id must be a string of 1 to ${ROW_ID_CHARS_MAX} characters`);
  }
  return Buffer.byteLength(value);
}

/**
 * Checks `value` is a Command the public API could have made; returns its
 * measured size in bytes, or throws InvalidCommand saying what is wrong.
 */
export function checkCommand(value: unknown): number {
  if (!isObject(value)) fail('a command must be an object');
  const raw_type = value.type;
  const type = typeof raw_type === 'string' && Object.prototype.hasOwnProperty.call(COMMAND_FIELDS, raw_type) ? raw_type : null;
  if (type === null) fail(`unknown command type ${typeof raw_type === 'string' ? JSON.stringify(raw_type.slice(0, 64)) : typeof raw_type}`);
  const fields = COMMAND_FIELDS[type] as readonly string[];
  let count = 0;
  for (const key in value) {
    // A field set to undefined is absent: JSON drops it on the way to the log.
    if (!Object.prototype.hasOwnProperty.call(value, key) || value[key] === undefined) continue;
    count += 1;
    if (!fields.includes(key)) fail(`unknown field ${JSON.stringify(key.slice(0, 64))} in a ${type} command`);
  }
  const has_params = type === 'sql' && value.params !== undefined;
  if (count !== (REQUIRED[type] as number) + (has_params ? 1 : 0)) fail(`a ${type} command lacks a field`);
  let bytes = 0;
  switch (type) {
    case 'init_database':
      return bytes + name(value.db_name, 'db_name');
    case 'create_table': {
      bytes += database(value.db_name) + name(value.table_name, 'table_name');
      const columns = value.columns;
      if (!Array.isArray(columns) || columns.length === 0 || columns.length > COLUMNS_PER_TABLE_MAX) {
        fail(`columns must be an array of 1 to ${COLUMNS_PER_TABLE_MAX} names`);
      }
      for (let index = 0; index < columns.length; index += 1) bytes += name(columns[index], `columns[${index}]`);
      return bytes;
    }
    case 'drop_table':
      return bytes + database(value.db_name) + name(value.table_name, 'table_name');
    case 'insert':
      return bytes + database(value.db_name) + name(value.table_name, 'table_name') + rowId(value.row_id) + row(value.data, 'data', 0);
    case 'update':
      return bytes + database(value.db_name) + name(value.table_name, 'table_name') + rowId(value.row_id) + row(value.new_data, 'new_data', 1);
    case 'delete_row':
      return bytes + database(value.db_name) + name(value.table_name, 'table_name') + rowId(value.row_id);
    default: {
      // sql
      const script = value.script;
      if (typeof script !== 'string' || script.length === 0 || script.length > SCRIPT_CHARS_MAX) {
        fail(`script must be a string of 1 to ${SCRIPT_CHARS_MAX} characters`);
      }
      bytes += database(value.db_name) + Buffer.byteLength(script);
      return has_params ? bytes + params(value.params) : bytes;
    }
  }
}
