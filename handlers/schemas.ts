/**
 * Every request shape of the public API, as JSON Schema (for ajv) beside the
 * TypeScript type handlers read. Bodies are strict: an unknown field is a 400,
 * so a typo never silently does something else. Each schema names a table and
 * a database in its own place's spelling; validate.ts accepts the other one too.
 */
import type { RowData, SqlParams } from '../database/commands';
import { COLUMNS_PER_TABLE_MAX } from '../database/table-commands';
import { DdbError } from '../utils/errors';
import { ASSOCIATIVE_QUERY_VALUES, type AssociativeQueryValue } from './associative';
import { IDENTIFIER_PATTERN } from './validate';

const identifier = { type: 'string', pattern: IDENTIFIER_PATTERN } as const;
const scalar = { type: ['string', 'number', 'boolean', 'null'] } as const;
/** Row ids are strings; an integer is accepted and read as its decimal string. */
const rowId = {
  anyOf: [
    { type: 'string', minLength: 1, maxLength: 512 },
    { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 },
  ],
} as const;
const rowData = {
  type: 'object',
  maxProperties: 1000,
  propertyNames: { pattern: IDENTIFIER_PATTERN },
  additionalProperties: scalar,
} as const;
const consistency = { enum: ['local', 'strong'] } as const;

export interface InitDatabaseBody { db_name: string; user?: string; password?: string; host?: string }
export const initDatabaseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['db_name'],
  properties: { db_name: identifier, user: { type: 'string' }, password: { type: 'string' }, host: { type: 'string' } },
} as const;

/** The engine's validateColumns checks what a schema cannot say: no row_id, no name twice in any case. */
export interface CreateTableBody { db_name?: string; table_name: string; columns: string[] }
export const createTableSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['table_name', 'columns'],
  properties: {
    db_name: identifier,
    table_name: identifier,
    columns: { type: 'array', minItems: 1, maxItems: COLUMNS_PER_TABLE_MAX, items: identifier },
  },
} as const;

export interface TableBody { db_name?: string; table_name: string }
export const deleteTableSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['table_name'],
  properties: { db_name: identifier, table_name: identifier },
} as const;

export interface InsertBody { db_name?: string; table_name: string; row_id: string | number; data: RowData }
export const insertSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['table_name', 'row_id', 'data'],
  properties: { db_name: identifier, table_name: identifier, row_id: rowId, data: rowData },
} as const;

export interface UpdateBody { db_name?: string; table_name: string; row_id: string | number; new_data: RowData }
export const updateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['table_name', 'row_id', 'new_data'],
  properties: {
    db_name: identifier,
    table_name: identifier,
    row_id: rowId,
    new_data: { ...rowData, minProperties: 1 },
  },
} as const;

export interface DeleteRecordBody { db_name?: string; table_name: string; row_id: string | number }
export const deleteRecordSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['table_name', 'row_id'],
  properties: { db_name: identifier, table_name: identifier, row_id: rowId },
} as const;

export interface QueryBody {
  query: string;
  params?: SqlParams;
  command?: 'exec' | 'query';
  db_name?: string;
  is_master?: boolean;
  associative?: boolean;
}
export const queryBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['query'],
  properties: {
    query: { type: 'string', minLength: 1, maxLength: 1_000_000 },
    params: {
      anyOf: [
        { type: 'array', maxItems: 999, items: scalar },
        { type: 'object', maxProperties: 999, additionalProperties: scalar },
      ],
    },
    command: { enum: ['exec', 'query'] },
    db_name: identifier,
    // Seed 000's clients send it; roles are the cluster's business, so it is ignored.
    is_master: { type: 'boolean' },
    associative: { type: 'boolean' },
  },
} as const;

/** POST endpoints accept `?db=` and nothing else in the query string. */
export interface WriteQuery { db?: string }
export const writeQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { db: identifier },
} as const;

export interface ReadQuery { db?: string; consistency?: 'local' | 'strong' }

/** /query's query string: a read's, plus rows as objects on request. */
export interface SqlQuery extends ReadQuery { associative?: AssociativeQueryValue }
export const sqlQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { db: identifier, consistency, associative: { enum: ASSOCIATIVE_QUERY_VALUES } },
} as const;

export interface SelectQuery extends ReadQuery { table: string }
export const selectQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['table'],
  properties: { table: identifier, db: identifier, consistency },
} as const;

export interface SearchQuery extends ReadQuery { table: string; column: string; value: string }
export const searchQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['table', 'column', 'value'],
  properties: {
    table: identifier,
    column: identifier,
    value: { type: 'string', maxLength: 65_536 },
    db: identifier,
    consistency,
  },
} as const;

/** Row ids travel as strings inside the engine. */
export function rowIdText(rowId: string | number): string {
  return typeof rowId === 'number' ? String(rowId) : rowId;
}

/**
 * The database a request names, in the body or with `?db=`; null means the
 * default. Naming it in both places is fine when they agree; two different
 * databases are refused, since ddb cannot know which one was meant.
 */
export function chosenDatabase(bodyName: string | undefined, query: { db?: string }): string | null {
  if (bodyName !== undefined && query.db !== undefined && bodyName !== query.db) {
    throw new DdbError('INVALID_REQUEST', `the body names database '${bodyName}' and the query string names '${query.db}'; give one`, {
      path: '/db_name',
    });
  }
  return bodyName ?? query.db ?? null;
}
