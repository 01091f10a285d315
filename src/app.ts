/**
 * createApp(service): the public HTTP API as an express app. It never listens:
 * the node puts it behind its own server, and the API tests call it through
 * supertest without a socket.
 */
import express, { type Express } from 'express';
import { databaseRoutes } from '../handlers/database-routes';
import { errorHandler, notFound } from '../handlers/errors';
import { queryRoutes } from '../handlers/query-routes';
import { requestLog } from '../handlers/request-log';
import { rowRoutes } from '../handlers/row-routes';
import type { DatabaseService } from '../handlers/service';
import { statusRoutes } from '../handlers/status-routes';
import { tableRoutes } from '../handlers/table-routes';
import type { Logger } from '../utils/logger';

export interface AppOptions {
  logger: Logger;
  body_limit_bytes: number;
}

export function createApp(service: DatabaseService, options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  app.use(requestLog(options.logger));
  // Every POST body is read as JSON whatever its Content-Type, so `curl -d '{...}'`
  // works without a header; a body that is not JSON is a clear 400.
  app.use(express.json({ limit: options.body_limit_bytes, type: () => true, strict: false }));
  // Busiest first: express tries each router's routes in turn until one matches.
  app.use(rowRoutes(service));
  app.use(queryRoutes(service));
  app.use(tableRoutes(service));
  app.use(databaseRoutes(service));
  app.use(statusRoutes(service));
  app.use((request) => notFound(request));
  app.use(errorHandler(options.logger));
  return app;
}
