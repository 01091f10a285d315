/**
 * Successful password checks, remembered so that a client sending Basic
 * credentials with every request pays scrypt (~50 ms) once, not per request.
 * Keyed by an HMAC of user and password under a key made per process, so the
 * cache holds nothing a memory dump could turn back into a password; each entry
 * remembers the hash it was checked against, so a changed password misses.
 * Bounded: the oldest entry goes first. The authenticator clears it whenever
 * the users file changes. Failures are never cached: each wrong guess costs a scrypt.
 */
import { createHmac, randomBytes } from 'node:crypto';

export class VerificationCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, string>();

  constructor(private readonly entries_max = 10_000) {}

  /** The HMAC of user and password: what the cache (and the authenticator's in-flight checks) are keyed by. */
  keyOf(user: string, password: string): string {
    return createHmac('sha256', this.key).update(user).update('\0').update(password).digest('base64');
  }

  /** Whether this user and password were verified against exactly this hash. */
  has(user: string, password: string, hash: string): boolean {
    return this.entries.get(this.keyOf(user, password)) === hash;
  }

  remember(user: string, password: string, hash: string): void {
    const key = this.keyOf(user, password);
    this.entries.delete(key);
    this.entries.set(key, hash);
    if (this.entries.size > this.entries_max) this.entries.delete(this.entries.keys().next().value as string);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
