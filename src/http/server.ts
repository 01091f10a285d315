/**
 * One port per node: the peer channel arrives as an upgrade of
 * /internal/peer (peer-endpoints.ts), any other /internal/* request is
 * refused, and everything else goes to the express app. With TLS (https://
 * URLs) the same port speaks TLS for both. The server asks every client for
 * a certificate but lets in those without one: public clients need none,
 * and the peer channel takes only connections that showed one the CA signed.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Express } from 'express';
import type { Logger } from '../../utils/logger';
import type { TlsMaterial } from './tls-material';
import type { ProcessNode } from '../node/create-node';
import { expressClasses } from './express-classes';
import { isPeerPath, peerUpgrade, refusePeerRequest } from './peer-endpoints';

export type NodeServer = http.Server | https.Server;

export function createServer(process_node: ProcessNode, app: Express, _logger: Logger, tls?: TlsMaterial): NodeServer {
  const handler = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    if (isPeerPath(request.url)) {
      refusePeerRequest(request, response);
      return;
    }
    app(request, response);
  };
  const classes = expressClasses(app);
  const server: NodeServer =
    tls === undefined
      ? http.createServer(classes, handler)
      : https.createServer({ ...classes, cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false }, handler);
  server.on('upgrade', peerUpgrade(process_node));
  // Benchmark clients and browsers hold connections open; keep them longer than
  // the clients' idle timeouts so a request never races a server-side close.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}

/**
 * Whether the other end of this connection showed a certificate that the CA
 * of tls.ca_file signed (and that is valid now). Always false without TLS.
 */
export function presentedTrustedCertificate(socket: net.Socket): boolean {
  return (socket as Partial<TLSSocket>).encrypted === true && (socket as TLSSocket).authorized === true;
}

export function listen(server: NodeServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
