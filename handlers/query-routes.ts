/**
 * POST /query and POST /: SQL scripts. A read-only script is served like any
 * read; a write goes through the log; a script that changes the schema (or a
 * database) is privileged and runs on the master only.
 */
import type { IRouter, Request, Response } from 'express';
import { classifyScript } from '../database/sql';
import type { DatabaseService } from './service';
import { chosenDatabase, queryBodySchema, readQuerySchema, type QueryBody, type ReadQuery } from './schemas';
import { validateBody, validateQuery } from './validate';
import { reply } from './reply';

export function queryRoutes(router: IRouter, service: DatabaseService): void {

  async function runScript(_request: Request, response: Response): Promise<void> {
    const body = response.locals.body as QueryBody;
    const query = response.locals.query as ReadQuery;
    const db_name = chosenDatabase(body.db_name, query);
    const script = classifyScript(body.query);
    if (script.kind === 'read') {
      await service.readBarrier(query.consistency ?? 'local');
      reply(response, 200, service.engine.query(db_name, body.query, body.params));
      return;
    }
    const command = { type: 'sql' as const, db_name, script: body.query, params: body.params };
    const result = script.privileged ? await service.writeAsMaster(command) : await service.write(command);
    reply(response, 200, result);
  }

  const checks = [validateQuery(readQuerySchema), validateBody(queryBodySchema)];
  router.post('/query', ...checks, runScript);
  router.post('/', ...checks, runScript);
}
