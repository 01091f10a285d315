/**
 * One port per node: the peer channel arrives as an upgrade of
 * /internal/peer (peer-endpoints.ts), any other /internal/* request is
 * refused, and everything else goes to the express app.
 */
import http from 'node:http';
import type { Express } from 'express';
import type { Logger } from '../../utils/logger';
import type { ProcessNode } from '../node/create-node';
import { expressClasses } from './express-classes';
import { isPeerPath, peerUpgrade, refusePeerRequest } from './peer-endpoints';

export function createServer(process_node: ProcessNode, app: Express, _logger: Logger): http.Server {
  const server = http.createServer(expressClasses(app), (request, response) => {
    if (isPeerPath(request.url)) {
      refusePeerRequest(request, response);
      return;
    }
    app(request, response);
  });
  server.on('upgrade', peerUpgrade(process_node));
  // Benchmark clients and browsers hold connections open; keep them longer than
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
