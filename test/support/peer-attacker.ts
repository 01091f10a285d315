/**
 * An attacker's (or a confused member's) side of the peer channel, for the
 * tests that forge peer traffic: it opens the upgrade with whatever ids,
 * secret and proof it is given, and sends raw frames, good or bad. It speaks
 * through a plain socket so a test can send any bytes at all.
 */
import net from 'node:net';
import tls from 'node:tls';
import { type Frame, FrameReader, FrameType, type FrameTypeCode, FrameWriter } from '../../src/replication/peer-frames';
import { PEER_PATH, PEER_PROTOCOL, clientProof, newNonce, parseNonce, sessionKeys } from '../../src/replication/peer-handshake';

export interface UpgradeAttempt {
  url: string;
  from: number | string;
  to: number | string;
  secret: Buffer;
  /** Replaces the computed proof (base64). */
  proof?: string;
  /** Replaces the fresh nonce (to replay a captured request). */
  client_nonce?: Buffer;
  path?: string;
  /** Over TLS, trusting `ca`, showing `cert` and `key` if given. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
}

export interface UpgradeResult {
  status: number;
  head: string;
  socket: net.Socket;
  /** The writer for client-to-server frames, when the upgrade succeeded. */
  writer: FrameWriter | null;
  /** The server's frames to us, verified with the server-to-client key, when the upgrade succeeded. */
  reader: FrameReader | null;
  client_nonce: Buffer;
}

/** Sends the upgrade request and reads the answer's head. */
export function upgrade(attempt: UpgradeAttempt): Promise<UpgradeResult> {
  const url = new URL(attempt.url);
  const client_nonce = attempt.client_nonce ?? newNonce();
  const ids = { client_id: Number(attempt.from), server_id: Number(attempt.to), client_nonce };
  const proof = attempt.proof ?? clientProof(attempt.secret, ids).toString('base64');
  return new Promise((resolve, reject) => {
    const socket =
      attempt.tls === undefined
        ? net.connect(Number(url.port), url.hostname)
        : tls.connect({ port: Number(url.port), host: url.hostname, ...attempt.tls });
    let received = '';
    socket.on('error', reject);
    socket.on(attempt.tls === undefined ? 'connect' : 'secureConnect', () => {
      socket.write(
        `GET ${attempt.path ?? PEER_PATH} HTTP/1.1\r\nhost: ${url.host}\r\nconnection: Upgrade\r\nupgrade: ${PEER_PROTOCOL}\r\n` +
          `x-ddb-from: ${attempt.from}\r\nx-ddb-to: ${attempt.to}\r\nx-ddb-nonce: ${client_nonce.toString('base64')}\r\nx-ddb-proof: ${proof}\r\n\r\n`,
      );
    });
    const onData = (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const head = received.slice(0, end);
      const status = Number(head.split(' ')[1]);
      const server_nonce = parseNonce(/x-ddb-nonce: (\S+)/i.exec(head)?.[1]);
      const keys = status === 101 && server_nonce !== null ? sessionKeys(attempt.secret, { ...ids, server_nonce }) : null;
      const writer = keys === null ? null : new FrameWriter(keys.client_to_server);
      const reader = keys === null ? null : new FrameReader(keys.server_to_client, 1 << 30);
      if (reader !== null) {
        const rest = Buffer.from(received.slice(end + 4), 'latin1');
        if (rest.length > 0) reader.push(rest);
        socket.on('data', (more: Buffer) => reader.push(more));
      }
      resolve({ status, head, socket, writer, reader, client_nonce });
    };
    socket.on('data', onData);
  });
}

/** Resolves once the server has closed the socket (true), or after `wait_ms` with it still open (false). */
export function closedWithin(socket: net.Socket, wait_ms: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), wait_ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The next frame of `type` the server sent (others are skipped), or null after `wait_ms`. */
export async function nextFrame(result: UpgradeResult, type: FrameTypeCode, wait_ms: number): Promise<Frame | null> {
  const deadline = Date.now() + wait_ms;
  while (Date.now() < deadline) {
    const next = result.reader?.next() ?? null;
    if (next !== null) {
      if (next.type === type) return next;
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return null;
}

export function frame(writer: FrameWriter, type: FrameTypeCode, body: unknown): Buffer {
  return writer.frame(type, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

export { FrameType };
