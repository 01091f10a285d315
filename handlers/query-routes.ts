/**
 * POST /query and POST /: SQL scripts. A read-only script is served like any
 * read; a write goes through the log; a script that changes the schema (or a
 * database) is privileged and runs on the master only. Rows come as arrays,
 * or as objects when the client asks (associative.ts).
 */
import type { IRouter, Request, Response } from 'express';
import { classifyScript } from '../database/sql';
import type { DatabaseService } from './service';
import { associativeRequested, toAssociative } from './associative';
import { chosenDatabase, queryBodySchema, sqlQuerySchema, type QueryBody, type SqlQuery } from './schemas';
import { validateBody, validateQuery } from './validate';
import { reply } from './reply';
import { authorizeCommand, authorizeReadScript } from './authorize';

export function queryRoutes(router: IRouter, service: DatabaseService): void {

  async function runScript(_request: Request, response: Response): Promise<void> {
    const body = response.locals.body as QueryBody;
    const query = response.locals.query as SqlQuery;
    const db_name = chosenDatabase(body.db_name, query);
    const shape = associativeRequested(body.associative, query.associative) ? toAssociative : (answer: unknown) => answer;
    const script = classifyScript(body.query);
    if (script.kind === 'read') {
      authorizeReadScript(response, service, body.query, db_name);
      await service.readBarrier(query.consistency ?? 'local');
      reply(response, 200, shape(await service.query(db_name, body.query, body.params)));
      return;
    }
    const { command, caller } = authorizeCommand(response, service, { type: 'sql', db_name, script: body.query, params: body.params });
    const result = script.privileged ? await service.writeAsMaster(command, caller) : await service.write(command, caller);
    reply(response, 200, shape(result));
  }

  const checks = [validateQuery(sqlQuerySchema), validateBody(queryBodySchema)];
  router.post('/query', ...checks, runScript);
  router.post('/', ...checks, runScript);
}
