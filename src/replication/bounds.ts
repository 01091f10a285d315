/**
 * The largest term and log index ddb accepts anywhere: from a peer
 * (peer-validation.ts), in the replica, and in storage when it saves or
 * recovers the hard state and the log. 2^48 leaves room below 2^53 (the
 * largest integer a JSON number carries exactly), so a term that passes can
 * always be moved to, persisted and read back. No real cluster gets near it
 * (a new term every millisecond for 8,900 years).
 */
export const TERM_MAX = 2 ** 48;
export const INDEX_MAX = 2 ** 48;

/** A non-negative integer no larger than `max`. */
export function isBoundedCount(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

/** A sha256 in lowercase hex: checksums and the state and content hashes. */
export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}
