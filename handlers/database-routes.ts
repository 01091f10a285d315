/** POST /init_database: create a database (master only) and make it the default. */
import type { IRouter } from 'express';
import type { DatabaseService } from './service';
import { initDatabaseSchema, type InitDatabaseBody } from './schemas';
import { validateBody } from './validate';
import { reply } from './reply';

interface InitDatabaseResult { db_name: string; created: boolean }

export function databaseRoutes(router: IRouter, service: DatabaseService): void {
  router.post('/init_database', validateBody(initDatabaseSchema), async (_request, response) => {
    const body = response.locals.body as InitDatabaseBody;
    // user, password and host come from seed 003's MySQL-shaped clients; ddb has
    // no per-database credentials, so they are accepted and not stored.
    const result = (await service.writeAsMaster({ type: 'init_database', db_name: body.db_name })) as InitDatabaseResult;
    reply(response, result.created ? 201 : 200, result);
  });
}
