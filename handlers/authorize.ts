/**
 * The routes' check of the right a request needs (src/auth/access.ts), after
 * it is validated and before it is acted on or forwarded. Without a users file
 * `res.locals.auth` is absent and each check is one branch. With users, a
 * command naming no database is pinned to the default database it was checked
 * against, so the database checked is the database written, on every node.
 */
import type { Response } from 'express';
import type { Command } from '../database/commands';
import { needOfCommand, needOfSql, type Need } from '../src/auth/access';
import { unauthenticated } from '../src/auth/authenticator';
import type { RequestAuth } from './authenticate';
import { ANONYMOUS, type Caller, type DatabaseService } from './service';

export function authorizeCommand(response: Response, service: DatabaseService, command: Command): { command: Command; caller: Caller } {
  const auth = response.locals.auth as RequestAuth | undefined;
  if (auth === undefined) return { command, caller: ANONYMOUS };
  const pinned = command.db_name === null ? { ...command, db_name: service.engine.defaultDatabase() } : command;
  const user = check(auth, needOfCommand(pinned, pinned.db_name as string));
  return { command: pinned, caller: { user } };
}

/** /select and /search: reader on the database. */
export function authorizeRead(response: Response, service: DatabaseService, db_name: string | null): void {
  const auth = response.locals.auth as RequestAuth | undefined;
  if (auth === undefined) return;
  check(auth, { role: 'reader', databases: [db_name ?? service.engine.defaultDatabase()] });
}

/** A read-only SQL script: reader on every database it names. */
export function authorizeReadScript(response: Response, service: DatabaseService, script: string, db_name: string | null): void {
  const auth = response.locals.auth as RequestAuth | undefined;
  if (auth === undefined) return;
  check(auth, needOfSql(script, db_name ?? service.engine.defaultDatabase()));
}

function check(auth: RequestAuth, need: Need): string {
  if (auth.user === null) throw unauthenticated('credentials are required: HTTP Basic (curl -u user:password) or Authorization: Bearer <token>');
  auth.access.authorize(auth.user, need);
  return auth.user;
}
