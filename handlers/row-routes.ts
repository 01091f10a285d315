/**
 * Row endpoints. Writes (/insert, /update, /delete_record) are accepted by any
 * node and committed through the master (write-route.ts); reads (/select,
 * /search) are served from this node's applied state, or after a read barrier
 * for `strong`.
 */
import type { IRouter } from 'express';
import type { DatabaseService } from './service';
import {
  chosenDatabase,
  deleteRecordSchema,
  insertSchema,
  rowIdText,
  searchQuerySchema,
  selectQuerySchema,
  updateSchema,
  writeQuerySchema,
  type DeleteRecordBody,
  type InsertBody,
  type SearchQuery,
  type SelectQuery,
  type UpdateBody,
} from './schemas';
import { validateQuery } from './validate';
import { writeRoute } from './write-route';
import { reply } from './reply';
import { authorizeRead } from './authorize';

export function rowRoutes(router: IRouter, service: DatabaseService): void {
  writeRoute<InsertBody>(router, service, {
    path: '/insert',
    body_schema: insertSchema,
    query_schema: writeQuerySchema,
    privileged: false,
    status: 201,
    command: (body, query) => ({
      type: 'insert',
      db_name: chosenDatabase(body.db_name, query),
      table_name: body.table_name,
      row_id: rowIdText(body.row_id),
      data: body.data,
    }),
  });

  writeRoute<UpdateBody>(router, service, {
    path: '/update',
    body_schema: updateSchema,
    query_schema: writeQuerySchema,
    privileged: false,
    status: 200,
    command: (body, query) => ({
      type: 'update',
      db_name: chosenDatabase(body.db_name, query),
      table_name: body.table_name,
      row_id: rowIdText(body.row_id),
      new_data: body.new_data,
    }),
  });

  writeRoute<DeleteRecordBody>(router, service, {
    path: '/delete_record',
    body_schema: deleteRecordSchema,
    query_schema: writeQuerySchema,
    privileged: false,
    status: 200,
    command: (body, query) => ({
      type: 'delete_row',
      db_name: chosenDatabase(body.db_name, query),
      table_name: body.table_name,
      row_id: rowIdText(body.row_id),
    }),
  });

  router.get('/select', validateQuery(selectQuerySchema), async (_request, response) => {
    const query = response.locals.query as SelectQuery;
    authorizeRead(response, service, query.db ?? null);
    await service.readBarrier(query.consistency ?? 'local');
    reply(response, 200, service.engine.select(query.db ?? null, query.table));
  });

  router.get('/search', validateQuery(searchQuerySchema), async (_request, response) => {
    const query = response.locals.query as SearchQuery;
    authorizeRead(response, service, query.db ?? null);
    await service.readBarrier(query.consistency ?? 'local');
    reply(response, 200, service.engine.search(query.db ?? null, query.table, query.column, query.value));
  });
}
