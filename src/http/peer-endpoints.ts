/**
 * /internal/*: peer traffic is not part of the public API. The only way in is
 * an upgrade of GET /internal/peer to the authenticated peer channel
 * (src/replication/channel-transport.ts), which refuses anyone who cannot
 * prove the cluster secret with 401. Any other request there is answered 401
 * UNAUTHENTICATED and changes nothing.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { DdbError } from '../../utils/errors';
import type { ProcessNode } from '../node/create-node';

export const PEER_PATH_PREFIX = '/internal/';

export function isPeerPath(url: string | undefined): boolean {
  return url !== undefined && url.startsWith(PEER_PATH_PREFIX);
}

/** A plain HTTP request under /internal/: never served. */
export function refusePeerRequest(request: http.IncomingMessage, response: http.ServerResponse): void {
  const body = JSON.stringify(new DdbError('UNAUTHENTICATED', `${request.url ?? ''} takes only the authenticated peer channel`).toJSON());
  response.writeHead(401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  response.end(body);
  // The rest of a body is not read: the connection closes with the answer.
  request.resume();
}

/** An upgrade request: the peer channel takes /internal/peer; nothing else upgrades. */
export function peerUpgrade(process_node: ProcessNode) {
  return (request: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    process_node.transport.accept(request, socket, head);
  };
}
