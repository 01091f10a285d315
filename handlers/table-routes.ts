/** POST /create_table and /delete_table: schema changes, executed by the master only (write-route.ts). */
import type { IRouter } from 'express';
import { validateColumns } from '../database/table-commands';
import type { DatabaseService } from './service';
import { chosenDatabase, createTableSchema, deleteTableSchema, writeQuerySchema, type CreateTableBody, type TableBody } from './schemas';
import { writeRoute } from './write-route';

export function tableRoutes(router: IRouter, service: DatabaseService): void {
  writeRoute<CreateTableBody>(router, service, {
    path: '/create_table',
    body_schema: createTableSchema,
    query_schema: writeQuerySchema,
    privileged: true,
    status: 201,
    command: (body, query) => {
      validateColumns(body.columns); // the engine's own rules, before the request takes a log entry
      return { type: 'create_table', db_name: chosenDatabase(body.db_name, query), table_name: body.table_name, columns: body.columns };
    },
  });

  writeRoute<TableBody>(router, service, {
    path: '/delete_table',
    body_schema: deleteTableSchema,
    query_schema: writeQuerySchema,
    privileged: true,
    status: 200,
    command: (body, query) => ({ type: 'drop_table', db_name: chosenDatabase(body.db_name, query), table_name: body.table_name }),
  });
}
