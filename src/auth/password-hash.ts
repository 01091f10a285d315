/**
 * Password hashes: `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>`, the
 * parameters in the string so they can be raised later without breaking old
 * hashes. scrypt from node:crypto because it is built in: no native addon to
 * compile (argon2 would need one) and no dependency to keep up; scrypt is
 * memory-hard, and at N=2^14, r=8 one check costs tens of milliseconds, which
 * is why successful checks are cached (verification-cache.ts).
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParameters {
  N: number;
  r: number;
  p: number;
}

export const SCRYPT_DEFAULTS: ScryptParameters = { N: 16_384, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on what a hash string may ask for, so a crafted file cannot make a check take minutes. */
const N_MAX = 2 ** 20;

export const PASSWORD_HASH_PATTERN = '^scrypt\\$[0-9]+\\$[0-9]+\\$[0-9]+\\$[A-Za-z0-9+/]+=*\\$[A-Za-z0-9+/]+=*$';

function derive(password: string, salt: Buffer, bytes: number, parameters: ScryptParameters): Promise<Buffer> {
  const options: ScryptOptions = { N: parameters.N, r: parameters.r, p: parameters.p, maxmem: 256 * parameters.N * parameters.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    // The asynchronous form runs on libuv's thread pool: the event loop keeps serving.
    scrypt(password.normalize('NFC'), salt, bytes, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export async function hashPassword(password: string, parameters: ScryptParameters = SCRYPT_DEFAULTS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, parameters);
  return ['scrypt', parameters.N, parameters.r, parameters.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export interface ParsedHash extends ScryptParameters {
  salt: Buffer;
  key: Buffer;
}

/** The hash's parts, or a message saying what is wrong with it. */
export function parseHash(hash: string): ParsedHash | string {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return 'is not scrypt$N$r$p$salt$hash (make it with `ddb user passwd`)';
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (!Number.isInteger(N) || N < 2 || N > N_MAX || (N & (N - 1)) !== 0) return `has N=${parts[1]}: it must be a power of 2 up to ${N_MAX}`;
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) return 'has r or p out of range (r 1..32, p 1..16)';
  const salt = Buffer.from(parts[4], 'base64');
  const key = Buffer.from(parts[5], 'base64');
  if (salt.length < 8 || key.length < 16) return 'has a salt or hash that is too short';
  return { N, r, p, salt, key };
}

/** Whether the password matches the hash; compared in constant time. A malformed hash matches nothing. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parsed = parseHash(hash);
  if (typeof parsed === 'string') return false;
  const key = await derive(password, parsed.salt, parsed.key.length, parsed);
  return timingSafeEqual(key, parsed.key);
}
