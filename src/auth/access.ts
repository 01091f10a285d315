/**
 * Which right a request needs, and whether a user has it. Rights:
 *  - reader: /select, /search, SQL that only reads;
 *  - writer: and /insert, /update, /delete_record, SQL that writes rows;
 *  - admin: and /init_database, /create_table, /delete_table, SQL that creates,
 *    alters or drops (DDL, CREATE/DROP DATABASE), and cluster-level operations
 *    (user management, node control, backup and restore).
 * A user with `databases` holds its role on those databases only; a cluster-level
 * operation needs a user without that restriction. Pure: no I/O.
 */
import type { Command } from '../../database/commands';
import { parseDatabaseStatement } from '../../database/database-statements';
import { analyzeScript } from '../../database/sql';
import { DdbError } from '../../utils/errors';
import { roleAtLeast, type Role } from './roles';
import type { UserEntry } from './users-file';

/** What a request needs: a role on some databases, a role on the whole cluster, or just a valid user. */
export type Need =
  | { role: Role; databases: readonly string[] }
  | { role: Role; cluster: true }
  | { any_user: true };

export const ANY_USER: Need = { any_user: true };

/** The role SQL needs, and every database it touches: its own, each `USE x`, each CREATE/DROP DATABASE. */
export function needOfSql(script: string, db_name: string): Need {
  const analysis = analyzeScript(script);
  const databases = new Set([db_name]);
  for (const statement of analysis.parsed) {
    const own = parseDatabaseStatement(statement.tokens);
    if (own !== null && 'name' in own) databases.add(own.name);
  }
  const role: Role = analysis.kind === 'read' ? 'reader' : analysis.privileged ? 'admin' : 'writer';
  return { role, databases: [...databases] };
}

/** The need of a command whose database is named (db_name null is resolved to the default before). */
export function needOfCommand(command: Command, default_database: string): Need {
  const db = command.db_name ?? default_database;
  switch (command.type) {
    case 'init_database':
    case 'create_table':
    case 'drop_table':
      return { role: 'admin', databases: [db] };
    case 'insert':
    case 'update':
    case 'delete_row':
      return { role: 'writer', databases: [db] };
    case 'sql':
      return needOfSql(command.script, db);
  }
}

/** Whether the user's role and grants cover the need. */
export function allows(entry: UserEntry, need: Need): boolean {
  if ('any_user' in need) return true;
  if (!roleAtLeast(entry.role, need.role)) return false;
  if (entry.databases === undefined) return true;
  if ('cluster' in need) return false;
  const granted = entry.databases;
  return need.databases.every((db) => granted.includes(db));
}

/** Throws 403 FORBIDDEN, saying what was missing, unless the user has the right. */
export function checkAccess(name: string, entry: UserEntry, need: Need): void {
  if (allows(entry, need)) return;
  if ('any_user' in need) return;
  const scope =
    'cluster' in need
      ? 'on the cluster (a user without a "databases" restriction)'
      : `on database${need.databases.length === 1 ? '' : 's'} ${need.databases.map((db) => `'${db}'`).join(', ')}`;
  const has = entry.databases === undefined ? entry.role : `${entry.role} on ${entry.databases.map((db) => `'${db}'`).join(', ') || 'no database'}`;
  throw new DdbError('FORBIDDEN', `user '${name}' (${has}) may not do this: it needs ${need.role} ${scope}`);
}
