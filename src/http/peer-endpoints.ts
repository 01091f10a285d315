/**
 * /internal/*: peer traffic, served by plain node:http in front of express
 * because it is the hottest path in the system (see DESIGN.md, "Where the
 * time goes"). Not part of the public API.
 *
 *   POST /internal/raft        {messages}  → {messages}: this node's answers to the sender
 *   POST /internal/propose     {writes: [{command, user}]} → {results: [{ok, value} | {ok: false, error}]}, in order
 *   POST /internal/read_index  {}          → {ok, index} | {ok: false, error}
 */
import type http from 'node:http';
import { DdbError } from '../../utils/errors';
import type { Logger } from '../../utils/logger';
import { TooLarge, readText } from '../../utils/read-text';
import type { ProcessNode } from '../node/create-node';
import { failureOf } from '../node/peer-answers';
import type { ForwardedWrite, NodeMessage } from '../node/peer-transport';
import { decodeWire, encodeMessages, encodeWire } from '../replication/wire';

/** Snapshots travel here too, so the limit is generous; anything larger is refused. */
export const PEER_BODY_BYTES_MAX = 512 * 1024 * 1024;

/** The peer's body; one larger than the limit ends the connection. */
function readBody(request: http.IncomingMessage): Promise<string> {
  return readText(request, PEER_BODY_BYTES_MAX).catch((error: Error) => {
    request.destroy();
    throw error instanceof TooLarge ? new Error('internal body too large') : error;
  });
}

function answer(response: http.ServerResponse, status: number, body: unknown): void {
  answerText(response, status, encodeWire(body));
}

function answerText(response: http.ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** The peer requests a node answers: a transport for its replies, and the node for the rest. */
/**
 * Steps a peer's messages, and resolves with this node's answers to that peer
 * once the next ready pass has persisted and produced them, so they travel
 * back in the response (see transport.ts). Stepped first: the replica throws
 * on a message from an unknown node, and then no reply is left open. The
 * ready pass runs later (soon), so the reply is open before it.
 */
function receiveAndReply({ node, transport }: ProcessNode, messages: NodeMessage[]): Promise<NodeMessage[]> {
  node.receive(messages);
  const from = messages[0]?.from;
  if (from === undefined) return Promise.resolve([]);
  return transport.openReply(from);
}

export function internalHandler(process_node: ProcessNode, logger: Logger) {
  const { node } = process_node;
  return async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    try {
      if (request.method !== 'POST') return answer(response, 405, failureOf(new DdbError('INVALID_REQUEST', 'POST only'), logger));
      const body = decodeWire<{ messages?: NodeMessage[]; writes?: unknown }>(await readBody(request));
      switch (request.url) {
        case '/internal/raft':
          return answerText(response, 200, encodeMessages(await receiveAndReply(process_node, body.messages ?? [])));
        case '/internal/propose':
          if (!Array.isArray(body.writes)) throw new Error('writes must be an array');
          return answer(response, 200, { results: await node.proposeForwarded(body.writes as ForwardedWrite[]) });
        case '/internal/read_index':
          return answer(response, 200, await node.answerReadIndex());
        default:
          return answer(response, 404, failureOf(new DdbError('NOT_FOUND', `no internal endpoint ${request.url}`), logger));
      }
    } catch (error) {
      logger.warn('internal request failed', { url: request.url, error: (error as Error).message });
      if (!response.headersSent) answer(response, 400, failureOf(new DdbError('INVALID_REQUEST', (error as Error).message), logger));
    }
  };
}
