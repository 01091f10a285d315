/**
 * `ddb user ...`: the users file's editor. It writes hashes (scrypt) and token
 * digests, never a password or a token; the file is replaced atomically with
 * mode 0600 (src/auth/users-store.ts), and running nodes re-read it within
 * about a second. The file is the one config.json's users_file names, or
 * `--users-file F`.
 *
 *   ddb user add <name> --role admin|writer|reader [--database D]... [--password-stdin]
 *   ddb user remove <name>
 *   ddb user passwd <name> [--password-stdin]
 *   ddb user role <name> --role R [--database D]...   (no --database: every database)
 *   ddb user token <name>                              (prints a new token, once)
 *   ddb user revoke <name> <token-id>
 *   ddb user list
 */
import { parseArgs } from 'node:util';
import { hashPassword } from '../auth/password-hash';
import { isRole, ROLES, type Role } from '../auth/roles';
import { newToken } from '../auth/tokens';
import { USER_NAME_PATTERN, type UserEntry, type UsersFile } from '../auth/users-file';
import { readOrEmpty, withUsersFileLock, writeUsersFile } from '../auth/users-store';
import { loadConfig } from '../../utils/config';
import { UsageError } from './cli-args';
import { readNewPassword } from './password-input';

export const USER_USAGE = `usage: ddb user <command> [--config <file> | --users-file <file>]
  add <name> --role ${ROLES.join('|')} [--database <db>]... [--password-stdin]
  remove <name>
  passwd <name> [--password-stdin]
  role <name> --role ${ROLES.join('|')} [--database <db>]...
  token <name>
  revoke <name> <token-id>
  list`;

const OPTIONS = {
  config: { type: 'string' },
  'users-file': { type: 'string' },
  role: { type: 'string' },
  database: { type: 'string', multiple: true },
  'password-stdin': { type: 'boolean' },
  password: { type: 'string' },
} as const;

interface Parsed {
  command: string;
  names: string[];
  values: { config?: string; 'users-file'?: string; role?: string; database?: string[]; 'password-stdin'?: boolean; password?: string };
}

function parse(argv: string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const [command, ...names] = parsed.positionals;
  if (command === undefined) throw new UsageError('which user command?');
  if (parsed.values.password !== undefined) throw new UsageError('a password on the command line is visible to every user of the machine; use the prompt or --password-stdin');
  return { command, names, values: parsed.values };
}

function usersFileOf(values: Parsed['values']): string {
  if (values['users-file'] !== undefined) return values['users-file'];
  const config_file = values.config ?? 'config.json';
  const config = loadConfig(config_file);
  if (config.users_file === undefined) {
    throw new UsageError(`${config_file} has no "users_file"; add "users_file": "users.json" to it (or pass --users-file <file>)`);
  }
  return config.users_file;
}

function oneName(parsed: Parsed, count = 1): string[] {
  if (parsed.names.length !== count) throw new UsageError(`ddb user ${parsed.command} takes ${count === 1 ? 'a user name' : `${count} arguments`}`);
  const [name] = parsed.names;
  if (!new RegExp(USER_NAME_PATTERN).test(name)) throw new UsageError(`user name '${name}' must match ${USER_NAME_PATTERN}`);
  return parsed.names;
}

function roleOf(values: Parsed['values']): { role: Role; databases?: string[] } {
  const role = values.role;
  if (role === undefined || !isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  return values.database === undefined ? { role } : { role, databases: [...new Set(values.database)] };
}

function existing(users: UsersFile, name: string): UserEntry {
  const entry = users.users[name];
  if (entry === undefined) throw new UsageError(`no user '${name}'`);
  return entry;
}

function describe(name: string, entry: UserEntry): string {
  const scope = entry.databases === undefined ? 'every database' : `databases: ${entry.databases.join(', ') || '(none)'}`;
  const tokens = (entry.tokens ?? []).map((token) => token.id);
  return `${name}\t${entry.role}\t${scope}\t${entry.password === undefined ? 'no password' : 'password set'}\ttokens: ${tokens.join(', ') || '(none)'}`;
}

/** Runs one `ddb user` command; what it prints goes to `out`. Throws UsageError or ConfigError (exit 2). */
export async function runUserCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const parsed = parse(argv);
  const file = usersFileOf(parsed.values);
  // The password is asked for before the lock is taken: a person typing must not hold up other commands.
  const needs_password = parsed.command === 'add' || parsed.command === 'passwd';
  if (needs_password) oneName(parsed);
  if (parsed.command === 'add') roleOf(parsed.values);
  const password = needs_password ? await readNewPassword(parsed.values['password-stdin'] === true) : null;
  if (parsed.command === 'list') {
    list(parsed, readOrEmpty(file), out);
    return;
  }
  await withUsersFileLock(file, () => edit(parsed, file, password, out));
}

function list(parsed: Parsed, users: UsersFile, out: (line: string) => void): void {
  if (parsed.names.length > 0) throw new UsageError('ddb user list takes no arguments');
  for (const [name, entry] of Object.entries(users.users)) out(describe(name, entry));
}

async function edit(parsed: Parsed, file: string, password: string | null, out: (line: string) => void): Promise<void> {
  const users = readOrEmpty(file);
  switch (parsed.command) {
    case 'add': {
      const [name] = oneName(parsed);
      if (users.users[name] !== undefined) throw new UsageError(`user '${name}' exists; change it with \`ddb user passwd\` or \`ddb user role\``);
      const rights = roleOf(parsed.values);
      users.users[name] = { password: await hashPassword(password as string), ...rights };
      writeUsersFile(file, users);
      out(`added ${describe(name, users.users[name])} to ${file}`);
      return;
    }
    case 'remove': {
      const [name] = oneName(parsed);
      existing(users, name);
      delete users.users[name];
      writeUsersFile(file, users);
      out(`removed ${name} from ${file}`);
      return;
    }
    case 'passwd': {
      const [name] = oneName(parsed);
      const entry = existing(users, name);
      entry.password = await hashPassword(password as string);
      writeUsersFile(file, users);
      out(`password of ${name} changed in ${file}`);
      return;
    }
    case 'role': {
      const [name] = oneName(parsed);
      const entry = existing(users, name);
      const rights = roleOf(parsed.values);
      entry.role = rights.role;
      if (rights.databases === undefined) delete entry.databases;
      else entry.databases = rights.databases;
      writeUsersFile(file, users);
      out(`changed ${describe(name, entry)}`);
      return;
    }
    case 'token': {
      const [name] = oneName(parsed);
      const entry = existing(users, name);
      const { token, stored } = newToken();
      entry.tokens = [...(entry.tokens ?? []), stored];
      writeUsersFile(file, users);
      out(token);
      process.stderr.write(`token ${stored.id} for ${name}: shown once, keep it (ddb stores only its sha256); revoke it with \`ddb user revoke ${name} ${stored.id}\`\n`);
      return;
    }
    case 'revoke': {
      const [name, id] = oneName(parsed, 2);
      const entry = existing(users, name);
      const kept = (entry.tokens ?? []).filter((token) => token.id !== id);
      if (kept.length === (entry.tokens ?? []).length) throw new UsageError(`user '${name}' has no token ${id}`);
      entry.tokens = kept;
      writeUsersFile(file, users);
      out(`revoked token ${id} of ${name}`);
      return;
    }
    default:
      throw new UsageError(`unknown user command '${parsed.command}'`);
  }
}
