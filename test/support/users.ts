/**
 * Users files for tests, written as `ddb user` writes them but with cheap
 * scrypt parameters (N=1024) so that tests do not spend 50 ms per user.
 */
import fs from 'node:fs';
import path from 'node:path';
import { hashPassword } from '../../src/auth/password-hash';
import type { Role } from '../../src/auth/roles';
import { newToken } from '../../src/auth/tokens';
import type { UsersFile } from '../../src/auth/users-file';
import { writeUsersFile } from '../../src/auth/users-store';

export const CHEAP_SCRYPT = { N: 1024, r: 8, p: 1 };

export interface TestUser {
  password: string;
  role: Role;
  databases?: string[];
  /** How many bearer tokens to make for the user. */
  tokens?: number;
}

/** Writes the users file; returns each user's tokens (the texts, shown once), by user name. */
export async function writeTestUsers(file: string, users: Record<string, TestUser>): Promise<Map<string, string[]>> {
  const content: UsersFile = { users: {} };
  const tokens = new Map<string, string[]>();
  for (const [name, user] of Object.entries(users)) {
    const made = Array.from({ length: user.tokens ?? 0 }, () => newToken());
    tokens.set(name, made.map((token) => token.token));
    content.users[name] = {
      password: await hashPassword(user.password, CHEAP_SCRYPT),
      role: user.role,
      ...(user.databases === undefined ? {} : { databases: user.databases }),
      ...(made.length === 0 ? {} : { tokens: made.map((token) => token.stored) }),
    };
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeUsersFile(file, content);
  return tokens;
}
