/**
 * createApp(service): the public HTTP API as an express app. It never listens:
 * the node puts it behind its own server, and the API tests call it through
 * supertest without a socket.
 */
import express, { type Express } from 'express';
import { databaseRoutes } from '../../handlers/database-routes';
import { errorHandler, notFound } from '../../handlers/errors';
import { jsonBody } from '../../handlers/json-body';
import { queryRoutes } from '../../handlers/query-routes';
import { requestLog } from '../../handlers/request-log';
import { rowRoutes } from '../../handlers/row-routes';
import type { DatabaseService } from '../../handlers/service';
import { statusRoutes } from '../../handlers/status-routes';
import { tableRoutes } from '../../handlers/table-routes';
import type { Logger } from '../../utils/logger';
import { authenticate, bodyCredentials } from '../../handlers/authenticate';
import type { Authenticator } from '../auth/authenticator';

export interface AppOptions {
  logger: Logger;
  body_limit_bytes: number;
  /** The node's users (config.json's users_file); absent, the API is open and no check is mounted. */
  access?: Authenticator;
}

export function createApp(service: DatabaseService, options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  app.use(requestLog(options.logger));
  // Who asks is settled before the body is read, and the routes check what they may do.
  if (options.access !== undefined) app.use(authenticate(options.access));
  app.use(jsonBody(options.body_limit_bytes));
  if (options.access !== undefined) app.use(bodyCredentials(options.access));
  // Every route on the app's own router, busiest first: express tries them in turn.
  rowRoutes(app, service);
  queryRoutes(app, service);
  tableRoutes(app, service);
  databaseRoutes(app, service);
  statusRoutes(app, service);
  app.use((request) => notFound(request));
  app.use(errorHandler(options.logger));
  return app;
}
