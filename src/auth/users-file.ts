/**
 * The users file (config.json's `users_file`): JSON of the form
 *
 *   {"users": {"alice": {"password": "scrypt$...", "role": "writer",
 *                        "databases": ["shop"], "tokens": [{"id": "...", "sha256": "..."}]}}}
 *
 * `databases` absent means every database; `tokens` absent means none. It is
 * validated with ajv; every problem is a ConfigError that names the file and
 * the key. `ddb user` writes it (users-store.ts); nodes read it here.
 */
import fs from 'node:fs';
import Ajv from 'ajv';
import { ConfigError } from '../../utils/config-error';
import { describeAjvError } from '../../utils/config';
import { parseHash, PASSWORD_HASH_PATTERN } from './password-hash';
import { ROLES, type Role } from './roles';
import { TOKEN_ID_PATTERN, type StoredToken } from './tokens';

export const USER_NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$';
const DATABASE_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';

export interface UserEntry {
  /** Absent for a user who signs in with tokens only. */
  password?: string;
  role: Role;
  /** The databases the role holds on; absent, every database. */
  databases?: string[];
  tokens?: StoredToken[];
}

export interface UsersFile {
  users: Record<string, UserEntry>;
}

const usersSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['users'],
  properties: {
    users: {
      type: 'object',
      propertyNames: { pattern: USER_NAME_PATTERN },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['role'],
        properties: {
          password: { type: 'string', pattern: PASSWORD_HASH_PATTERN },
          role: { enum: ROLES },
          databases: { type: 'array', maxItems: 10_000, uniqueItems: true, items: { type: 'string', pattern: DATABASE_PATTERN } },
          tokens: {
            type: 'array',
            maxItems: 1000,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['id', 'sha256'],
              properties: { id: { type: 'string', pattern: TOKEN_ID_PATTERN }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
            },
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true });
const validateUsers = ajv.compile(usersSchema);

/** Validates a parsed users file; throws ConfigError naming `source` and every key that is wrong. */
export function parseUsers(raw: unknown, source: string): UsersFile {
  if (!validateUsers(raw)) {
    const problems = (validateUsers.errors ?? []).map((error) => {
      if (error.keyword === 'propertyNames') return `${error.instancePath || '/'}: user name '${String(error.params.propertyName)}' must match ${USER_NAME_PATTERN}`;
      if (error.keyword === 'pattern' && error.instancePath.endsWith('/password')) return `${error.instancePath} is not a password hash (scrypt$N$r$p$salt$hash); set it with \`ddb user passwd\`, never the password itself`;
      return describeAjvError(error, '');
    });
    throw new ConfigError(`users file ${source}: ${[...new Set(problems)].join('; ')}`);
  }
  const file = raw as UsersFile;
  const token_owner = new Map<string, string>();
  for (const [name, entry] of Object.entries(file.users)) {
    if (entry.password !== undefined) {
      const parsed = parseHash(entry.password);
      if (typeof parsed === 'string') throw new ConfigError(`users file ${source}: /users/${name}/password ${parsed}`);
    }
    for (const token of entry.tokens ?? []) {
      const owner = token_owner.get(token.id);
      if (owner !== undefined) throw new ConfigError(`users file ${source}: token id ${token.id} appears twice (users ${owner} and ${name})`);
      token_owner.set(token.id, name);
    }
  }
  return file;
}

export function readUsersFile(file: string): UsersFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ConfigError(
      missing
        ? `users file ${file} does not exist; make it with \`ddb user add <name> --role admin\` (or fix "users_file" in config.json)`
        : `cannot read users file ${file}: ${(error as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`users file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseUsers(raw, file);
}
