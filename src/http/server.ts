/**
 * One port per node: /internal/* goes to the plain node:http peer handler,
 * everything else to the express app.
 */
import http from 'node:http';
import type { Express } from 'express';
import type { Logger } from '../../utils/logger';
import { expressClasses } from './express-classes';
import { internalHandler } from './peer-endpoints';
import type { ProcessNode } from '../node/create-node';

export function createServer(process_node: ProcessNode, app: Express, logger: Logger): http.Server {
  const internal = internalHandler(process_node, logger);
  const server = http.createServer(expressClasses(app), (request, response) => {
    if (request.url !== undefined && request.url.startsWith('/internal/')) {
      void internal(request, response);
      return;
    }
    app(request, response);
  });
  // Peers and benchmark clients hold connections open; keep them longer than
  // the clients' idle timeouts so a request never races a server-side close.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}

export function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
