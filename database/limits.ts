/**
 * The engine's size limits (config.json keys of the same names, utils/config.ts).
 * They decide apply results (a value too large is refused on every node alike),
 * so every node of a cluster must have the same values.
 */
export interface EngineLimits {
  /** Largest value zeroblob(), randomblob(), printf(), replace(), hex() and quote() may make. */
  readonly value_size_max_bytes: number;
  /** Largest answer a read (or a write's RETURNING rows) may build, counted as JSON text. */
  readonly result_size_max_bytes: number;
  /** Each database's quota (PRAGMA max_page_count); a write beyond it gets 507 QUOTA_EXCEEDED. */
  readonly database_size_max_bytes: number;
}

export const ENGINE_LIMITS_DEFAULT: EngineLimits = {
  value_size_max_bytes: 1_048_576,
  result_size_max_bytes: 67_108_864,
  database_size_max_bytes: 1_073_741_824,
};
