/**
 * Row endpoints. Writes (/insert, /update, /delete_record) are accepted by any
 * node and committed through the master; reads (/select, /search) are served
 * from this node's applied state, or after a read barrier for `strong`.
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
  type WriteQuery,
} from './schemas';
import { validateBody, validateQuery } from './validate';
import { reply } from './reply';

export function rowRoutes(router: IRouter, service: DatabaseService): void {
  const checkWriteQuery = validateQuery(writeQuerySchema);
  const databaseOf = (body: { db_name?: string }, query: unknown) => chosenDatabase(body.db_name, query as WriteQuery);

  router.post('/insert', checkWriteQuery, validateBody(insertSchema), async (_request, response) => {
    const body = response.locals.body as InsertBody;
    const result = await service.write({
      type: 'insert',
      db_name: databaseOf(body, response.locals.query),
      table_name: body.table_name,
      row_id: rowIdText(body.row_id),
      data: body.data,
    });
    reply(response, 201, result);
  });

  router.post('/update', checkWriteQuery, validateBody(updateSchema), async (_request, response) => {
    const body = response.locals.body as UpdateBody;
    const result = await service.write({
      type: 'update',
      db_name: databaseOf(body, response.locals.query),
      table_name: body.table_name,
      row_id: rowIdText(body.row_id),
      new_data: body.new_data,
    });
    reply(response, 200, result);
  });

  router.post('/delete_record', checkWriteQuery, validateBody(deleteRecordSchema), async (_request, response) => {
    const body = response.locals.body as DeleteRecordBody;
    const result = await service.write({
      type: 'delete_row',
      db_name: databaseOf(body, response.locals.query),
      table_name: body.table_name,
      row_id: rowIdText(body.row_id),
    });
    reply(response, 200, result);
  });

  router.get('/select', validateQuery(selectQuerySchema), async (_request, response) => {
    const query = response.locals.query as SelectQuery;
    await service.readBarrier(query.consistency ?? 'local');
    reply(response, 200, service.engine.select(query.db ?? null, query.table));
  });

  router.get('/search', validateQuery(searchQuerySchema), async (_request, response) => {
    const query = response.locals.query as SearchQuery;
    await service.readBarrier(query.consistency ?? 'local');
    reply(response, 200, service.engine.search(query.db ?? null, query.table, query.column, query.value));
  });
}
