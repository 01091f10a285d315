/** POST /create_table and /delete_table: schema changes, executed by the master only. */
import type { IRouter } from 'express';
import { validateColumns } from '../database/table-commands';
import type { DatabaseService } from './service';
import {
  chosenDatabase,
  createTableSchema,
  deleteTableSchema,
  writeQuerySchema,
  type CreateTableBody,
  type TableBody,
  type WriteQuery,
} from './schemas';
import { validateBody, validateQuery } from './validate';
import { reply } from './reply';

export function tableRoutes(router: IRouter, service: DatabaseService): void {
  const checkQuery = validateQuery(writeQuerySchema);

  router.post('/create_table', checkQuery, validateBody(createTableSchema), async (_request, response) => {
    const body = response.locals.body as CreateTableBody;
    validateColumns(body.columns); // the engine's own rules, before the request takes a log entry
    const result = await service.writeAsMaster({
      type: 'create_table',
      db_name: chosenDatabase(body.db_name, response.locals.query as WriteQuery),
      table_name: body.table_name,
      columns: body.columns,
    });
    reply(response, 201, result);
  });

  router.post('/delete_table', checkQuery, validateBody(deleteTableSchema), async (_request, response) => {
    const body = response.locals.body as TableBody;
    const result = await service.writeAsMaster({
      type: 'drop_table',
      db_name: chosenDatabase(body.db_name, response.locals.query as WriteQuery),
      table_name: body.table_name,
    });
    reply(response, 200, result);
  });
}
