/**
 * One port per node: /internal/* goes to the plain node:http peer handler,
 * everything else to the express app. With TLS (https:// URLs) the same
 * port speaks TLS for both. The server asks every client for a certificate
 * but lets in those without one: public clients need none, and a peer must
 * show one the CA signed (presentedTrustedCertificate) before its traffic is
 * taken as a peer's.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Express } from 'express';
import type { Logger } from '../../utils/logger';
import { expressClasses } from './express-classes';
import { internalHandler } from './peer-endpoints';
import type { TlsMaterial } from './tls-material';
import type { ProcessNode } from '../node/create-node';

export type NodeServer = http.Server | https.Server;

export function createServer(process_node: ProcessNode, app: Express, logger: Logger, tls?: TlsMaterial): NodeServer {
  const internal = internalHandler(process_node, logger);
  const handler = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    if (request.url !== undefined && request.url.startsWith('/internal/')) {
      void internal(request, response);
      return;
    }
    app(request, response);
  };
  const classes = expressClasses(app);
  const server: NodeServer =
    tls === undefined
      ? http.createServer(classes, handler)
      : https.createServer({ ...classes, cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false }, handler);
  // Peers and benchmark clients hold connections open; keep them longer than
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
