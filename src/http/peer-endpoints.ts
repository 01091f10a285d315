/**
 * /internal/*: peer traffic, served by plain node:http in front of express
 * because it is the hottest path in the system (see DESIGN.md, "Where the
 * time goes"). Not part of the public API.
 *
 *   POST /internal/raft        {messages}  → {messages}: this node's answers to the sender
 *   POST /internal/propose     {commands}  → {results: [{ok, value} | {ok: false, error}]}, in order
 *   POST /internal/read_index  {}          → {ok, index} | {ok: false, error}
 */
import type http from 'node:http';
import type { Command } from '../../database/commands';
import { DdbError } from '../../utils/errors';
import type { Logger } from '../../utils/logger';
import { TooLarge, readText } from '../../utils/read-text';
import type { DdbNode } from '../node/node';
import type { Message } from '../replication/replica';
import { decodeWire, encodeMessages, encodeWire } from '../replication/wire';
import type { LogPayload } from '../node/applied-state';

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

/**
 * A failure as its own result: a DdbError keeps its code; anything else is a
 * bug, logged and answered INTERNAL (500), so one bad write of a batch never
 * fails the others.
 */
function failureOf(error: unknown, logger: Logger): { ok: false; error: { code: string; message: string; details: Record<string, unknown> } } {
  const failure = error instanceof DdbError ? error : new DdbError('INTERNAL', 'internal error');
  if (!(error instanceof DdbError)) logger.error('internal request failed unexpectedly', { error: (error as Error)?.stack ?? String(error) });
  return { ok: false, error: { code: failure.code, message: failure.message, details: failure.details } };
}

/** Each forwarded write is proposed on its own, with its own answer; the batch is answered once all are. */
function proposeAll(node: DdbNode, commands: unknown, logger: Logger): Promise<{ results: unknown[] }> {
  if (!Array.isArray(commands)) throw new Error('commands must be an array');
  const deadline = Date.now() + node.writeTimeoutMs();
  const proposed = commands.map((command: Command) =>
    node.proposeLocal(command, deadline).then(
      (value) => ({ ok: true, value }),
      (error: unknown) => failureOf(error, logger),
    ),
  );
  return Promise.all(proposed).then((results) => ({ results }));
}

export function internalHandler(node: DdbNode, logger: Logger) {
  return async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    try {
      if (request.method !== 'POST') return answer(response, 405, failureOf(new DdbError('INVALID_REQUEST', 'POST only'), logger));
      const body = decodeWire<{ messages?: Message<LogPayload>[]; commands?: unknown }>(await readBody(request));
      switch (request.url) {
        case '/internal/raft':
          return answerText(response, 200, encodeMessages(await node.receiveAndReply(body.messages ?? [])));
        case '/internal/propose':
          return answer(response, 200, await proposeAll(node, body.commands, logger));
        case '/internal/read_index':
          return answer(response, 200, await node.confirmReadIndex(Date.now() + node.writeTimeoutMs()).then(
            (index) => (index === 'retry' ? failureOf(new DdbError('NOT_MASTER', 'not the master'), logger) : { ok: true, index }),
            (error: unknown) => failureOf(error, logger),
          ));
        default:
          return answer(response, 404, failureOf(new DdbError('NOT_FOUND', `no internal endpoint ${request.url}`), logger));
      }
    } catch (error) {
      logger.warn('internal request failed', { url: request.url, error: (error as Error).message });
      if (!response.headersSent) answer(response, 400, failureOf(new DdbError('INVALID_REQUEST', (error as Error).message), logger));
    }
  };
}
