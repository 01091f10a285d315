/**
 * writeRoute(router, service, route): the one shape of the write endpoints
 * (/insert, /update, /delete_record, /create_table, /delete_table and
 * /init_database; /query, which may be a read, has its own). A write is
 * validated, built and proposed here and nowhere else: the query string and
 * the body are checked against their schemas (both spellings of table and
 * database accepted), the route turns them into one engine Command, and the
 * command is proposed through the master — forwarded by a slave, or, for a
 * privileged route, run by the master only (a slave answers 307). The answer
 * is the engine's result with the route's status.
 */
import type { Schema } from 'ajv';
import type { IRouter, Request, Response } from 'express';
import type { Command } from '../database/commands';
import type { Caller, DatabaseService } from './service';
import { authorizeCommand } from './authorize';
import type { WriteQuery } from './schemas';
import { validateBody, validateQuery } from './validate';
import { reply } from './reply';

export interface WriteRoute<Body, Result> {
  path: string;
  /** The body's schema; `Body` is the type it admits (paired by hand, as in schemas.ts). */
  body_schema: Schema;
  /** The query string's schema; null when the route reads no query string, and so refuses none. */
  query_schema: Schema | null;
  /** Run by the master only (schema changes): a slave answers 307 to the master instead of forwarding. */
  privileged: boolean;
  /** The status of a success, or how to read it from the engine's result. */
  status: number | ((result: Result) => number);
  /**
   * The command the request asks for. It may refuse the request by throwing
   * DdbError, which then takes no log entry; `query` is empty when the route
   * has no query schema.
   */
  command: (body: Body, query: WriteQuery) => Command;
}

export function writeRoute<Body, Result = unknown>(router: IRouter, service: DatabaseService, route: WriteRoute<Body, Result>): void {
  const checks = route.query_schema === null ? [] : [validateQuery(route.query_schema)];
  checks.push(validateBody(route.body_schema));
  const propose = route.privileged
    ? (command: Command, caller: Caller) => service.writeAsMaster(command, caller)
    : (command: Command, caller: Caller) => service.write(command, caller);
  router.post(route.path, ...checks, async (_request: Request, response: Response) => {
    const built = route.command(response.locals.body as Body, (response.locals.query ?? {}) as WriteQuery);
    // The user's right is checked here, before a slave forwards or redirects (the master checks a forwarded write again).
    const { command, caller } = authorizeCommand(response, service, built);
    const result = (await propose(command, caller)) as Result;
    reply(response, typeof route.status === 'number' ? route.status : route.status(result), result);
  });
}
