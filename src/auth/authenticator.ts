/**
 * The node's users: who a request is (HTTP Basic or a bearer token) and
 * whether they may do what they ask. It reads the users file at start and
 * again when it changes: at most once a second a request makes it stat the
 * file, and a new modification time, size or inode reloads it, so `ddb user
 * add` takes effect within about a second without a restart. A file that no
 * longer validates keeps the users it had, and the error is logged once.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Command } from '../../database/commands';
import { DdbError } from '../../utils/errors';
import type { Logger } from '../../utils/logger';
import { checkAccess, needOfCommand, type Need } from './access';
import { verifyPassword } from './password-hash';
import { tokenId, tokenMatches, type StoredToken } from './tokens';
import { readUsersFile, type UserEntry, type UsersFile } from './users-file';
import { VerificationCache } from './verification-cache';

/** Checked instead when the user is unknown, so the time taken does not tell which users exist. */
const DUMMY_HASH = `scrypt$16384$8$1$${randomBytes(16).toString('base64')}$${randomBytes(32).toString('base64')}`;
const RELOAD_CHECK_MS = 1000;

export function unauthenticated(message: string): DdbError {
  return new DdbError('UNAUTHENTICATED', message);
}

interface Loaded {
  users: Map<string, UserEntry>;
  tokens: Map<string, { user: string; stored: StoredToken }>;
}

function index(file: UsersFile): Loaded {
  const users = new Map(Object.entries(file.users));
  const tokens = new Map<string, { user: string; stored: StoredToken }>();
  for (const [user, entry] of users) for (const stored of entry.tokens ?? []) tokens.set(stored.id, { user, stored });
  return { users, tokens };
}

export interface AuthenticatorOptions {
  users_file: string;
  logger: Logger;
  /** Milliseconds, for the once-a-second check; Date.now by default. */
  now?: () => number;
}

export class Authenticator {
  private loaded: Loaded;
  private readonly cache = new VerificationCache();
  private checked_ms: number;
  private signature: string;
  private reported: string | null = null;
  private readonly now: () => number;
  /** Checks under way, by cache key and hash: a burst of requests with new credentials costs one scrypt, not one each. */
  private readonly inflight = new Map<string, Promise<boolean>>();

  /** Reads the file; throws ConfigError when it is missing or invalid. */
  constructor(private readonly options: AuthenticatorOptions) {
    this.now = options.now ?? Date.now;
    this.signature = this.stat();
    this.loaded = index(readUsersFile(options.users_file));
    this.checked_ms = this.now();
  }

  private stat(): string {
    try {
      const stats = fs.statSync(this.options.users_file);
      return `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
    } catch {
      return 'missing';
    }
  }

  /** Re-reads the file when it changed; at most one stat a second. */
  private refresh(): void {
    const now = this.now();
    if (now - this.checked_ms < RELOAD_CHECK_MS) return;
    this.checked_ms = now;
    const signature = this.stat();
    if (signature === this.signature) return;
    this.signature = signature;
    try {
      this.loaded = index(readUsersFile(this.options.users_file));
      this.cache.clear();
      this.reported = null;
      this.options.logger.info(`users file ${this.options.users_file} re-read: ${this.loaded.users.size} users`);
    } catch (error) {
      const message = (error as Error).message;
      if (this.reported !== message) this.options.logger.error(`${message}; keeping the users read before`);
      this.reported = message;
    }
  }

  /** Drops remembered password checks now (the tests' handle on the cache). */
  forgetVerifications(): void {
    this.cache.clear();
  }

  get cached_verifications(): number {
    return this.cache.size;
  }

  /** The user an Authorization header proves, or 401 UNAUTHENTICATED. */
  async authenticate(header: string | undefined): Promise<string> {
    if (header === undefined || header === '') throw unauthenticated('credentials are required: HTTP Basic (curl -u user:password) or Authorization: Bearer <token>');
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw unauthenticated('malformed Basic credentials: expected base64 of user:password');
      return this.verifyPassword(decoded.slice(0, colon), decoded.slice(colon + 1));
    }
    if (scheme === 'bearer') return this.verifyToken(value);
    throw unauthenticated(`unsupported Authorization scheme '${scheme}': use Basic or Bearer`);
  }

  /** The user, when the password is theirs; otherwise 401. */
  async verifyPassword(user: string, password: string): Promise<string> {
    this.refresh();
    const entry = this.loaded.users.get(user);
    const hash = entry?.password;
    if (hash !== undefined && this.cache.has(user, password, hash)) return user;
    const ok = await this.check(user, password, hash ?? DUMMY_HASH);
    if (!ok || hash === undefined) throw unauthenticated('wrong user name or password');
    // The file may have changed while scrypt ran: remember only a check against the current hash.
    if (this.loaded.users.get(user)?.password === hash) this.cache.remember(user, password, hash);
    return user;
  }

  private check(user: string, password: string, hash: string): Promise<boolean> {
    const key = `${this.cache.keyOf(user, password)}\0${hash}`;
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = verifyPassword(password, hash).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private verifyToken(token: string): string {
    this.refresh();
    const id = tokenId(token);
    const found = id === null ? undefined : this.loaded.tokens.get(id);
    if (found === undefined || !tokenMatches(token, found.stored)) throw unauthenticated('unknown or revoked token');
    return found.user;
  }

  /** 403 FORBIDDEN unless the user has the right; a user no longer in the file is refused too. */
  authorize(user: string, need: Need): void {
    this.refresh();
    const entry = this.loaded.users.get(user);
    if (entry === undefined) throw new DdbError('FORBIDDEN', `user '${user}' is not in this node's users file`);
    checkAccess(user, entry, need);
  }

  /** The master's check of a write a slave forwarded for `user` (null: the slave took it without credentials). */
  authorizeForwarded(user: string | null, command: Command, default_database: string): void {
    if (user === null) throw unauthenticated('this cluster has users: the write came without any (is the forwarding node missing users_file?)');
    this.authorize(user, needOfCommand(command, default_database));
  }
}
