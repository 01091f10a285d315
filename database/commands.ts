/**
 * The replicated command union: every change to the engine's state is one of
 * these, proposed by the master, stored in the log and applied in log order on
 * every node by `Engine.apply(command, context)`. Commands are plain JSON so they
 * can be written to disk and sent between nodes unchanged.
 *
 * `db_name: null` means "the default database at the time of apply": the
 * default is itself replicated state, changed only by init_database (and by
 * dropping the default database, which makes main the default; USE lasts for
 * its own script only), so every node resolves it the same way.
 */
import type { ErrorBody } from '../utils/errors';

/** A JSON scalar: what a row value may be. Booleans are stored as 1 and 0. */
export type Scalar = string | number | boolean | null;

/** A row as given by a client: column name → value. */
export type RowData = Record<string, Scalar>;

/** Parameters of a single SQL statement: positional or named. */
export type SqlParams = Scalar[] | Record<string, Scalar>;

export type Command =
  | { type: 'init_database'; db_name: string }
  | { type: 'create_table'; db_name: string | null; table_name: string; columns: string[] }
  | { type: 'drop_table'; db_name: string | null; table_name: string }
  | { type: 'insert'; db_name: string | null; table_name: string; row_id: string; data: RowData }
  | { type: 'update'; db_name: string | null; table_name: string; row_id: string; new_data: RowData }
  | { type: 'delete_row'; db_name: string | null; table_name: string; row_id: string }
  /** A script of one or more statements, run atomically; may CREATE/DROP/USE databases. */
  | { type: 'sql'; db_name: string | null; script: string; params?: SqlParams };

export type CommandType = Command['type'];

/**
 * Fixed by the master when it proposes an entry, before the entry enters the
 * log, so every node applies with the same clock and the same randomness.
 */
export interface ApplyContext {
  /** Milliseconds since the epoch, read once on the master. */
  timestamp_ms: number;
  /** A 32-bit unsigned seed for `random()` and `randomblob()`. */
  seed: number;
}

/** The result of one SQL statement. */
export type StatementResult =
  | { columns: string[]; rows: Scalar[][] }
  | { changes: number; last_insert_rowid: number };

/** What `apply` returns: the same value on every node for the same log. */
export type ApplyResult =
  | { ok: true; value: unknown }
  | { ok: false; error: ErrorBody };
