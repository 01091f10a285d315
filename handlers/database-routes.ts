/** POST /init_database: create a database (master only, write-route.ts) and make it the default. */
import type { IRouter } from 'express';
import type { DatabaseService } from './service';
import { initDatabaseSchema, type InitDatabaseBody } from './schemas';
import { writeRoute } from './write-route';

interface InitDatabaseResult { db_name: string; created: boolean }

export function databaseRoutes(router: IRouter, service: DatabaseService): void {
  writeRoute<InitDatabaseBody, InitDatabaseResult>(router, service, {
    path: '/init_database',
    body_schema: initDatabaseSchema,
    // It never read its query string (the database is the body's db_name), so it refuses none.
    query_schema: null,
    privileged: true,
    status: (result) => (result.created ? 201 : 200),
    // user, password and host come from seed 003's MySQL-shaped clients. With a
    // users file, user and password are credentials (handlers/authenticate.ts);
    // without one they are ignored. None of them is stored or replicated.
    command: (body) => ({ type: 'init_database', db_name: body.db_name }),
  });
}
