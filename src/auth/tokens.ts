/**
 * Bearer tokens for programs: `ddb_<id>_<secret>`, the secret 32 random bytes
 * (base64url). The token is shown once when it is made; the users file keeps
 * only its id and the sha256 of the whole token, so the file reveals nothing
 * that works. A token is high-entropy, so a plain sha256 is enough (no scrypt:
 * nothing to guess), and checking one costs microseconds.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface StoredToken {
  id: string;
  sha256: string;
}

export const TOKEN_ID_PATTERN = '^[a-z0-9]{8,32}$';
const TOKEN = /^ddb_([a-z0-9]{8,32})_([A-Za-z0-9_-]{43})$/;

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new token: the text to show once, and what the users file stores. */
export function newToken(): { token: string; stored: StoredToken } {
  const id = randomBytes(6).toString('hex');
  const token = `ddb_${id}_${randomBytes(32).toString('base64url')}`;
  return { token, stored: { id, sha256: tokenDigest(token) } };
}

/** The token's id, or null when the text is not shaped like a ddb token. */
export function tokenId(token: string): string | null {
  return TOKEN.exec(token)?.[1] ?? null;
}

/** Whether the token is the one stored (constant-time comparison of the digests). */
export function tokenMatches(token: string, stored: StoredToken): boolean {
  const given = Buffer.from(tokenDigest(token), 'hex');
  const expected = Buffer.from(stored.sha256, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
