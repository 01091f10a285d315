/**
 * Peer traffic on one persistent, authenticated connection to each peer: an
 * HTTP upgrade on the peer's own port (peer-handshake.ts), then tagged
 * frames both ways (peer-frames.ts, peer-connection.ts). This node sends its
 * replication messages, forwarded writes and read-index requests on the
 * connection it opened to that peer; answers to requests come back on the
 * same connection, by request id. Connections peers open to this node bring
 * their messages and requests in.
 *
 * Nothing from a peer is decoded before its frame's tag is verified, and a
 * frame's messages must come from the node that connection authenticated as
 * and pass validation (`inspect`); anything else closes the connection and is
 * logged. A connection that goes silent (no PONG to our PING) is closed and
 * opened again, so a partition that heals does not leave a stale stream.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../utils/logger';
import type { TlsMaterial } from '../http/tls-material';
import type { CheckpointAnswer, CheckpointRequest, ForwardAnswer, ForwardedWrite, NodeMessage, PeerTransport, ReadIndexAnswer, RepairAnswer } from '../node/peer-transport';
import { INDEX_MAX, isBoundedCount, isSha256Hex } from './bounds';
import { PeerConnection } from './peer-connection';
import { type Frame, FrameType } from './peer-frames';
import {
  PEER_PATH,
  PEER_PROTOCOL,
  newNonce,
  parseMemberId,
  parseNonce,
  serverProof,
  sessionKeys,
  verifyServerProof,
  clientProof,
  verifyClientProof,
} from './peer-handshake';
import { SnapshotAssembly, sendSnapshotParts, type OutgoingInstall, type PartSink } from './snapshot-stream';

/** What the transport hands in: the node's side of peer traffic. */
export interface PeerHandlers {
  receive(messages: NodeMessage[]): void;
  proposeForwarded(writes: ForwardedWrite[]): Promise<ForwardAnswer[]>;
  answerReadIndex(): Promise<ReadIndexAnswer>;
  answerCheckpoint(from: number, request: CheckpointRequest): Promise<CheckpointAnswer>;
  answerRepair(from: number): Promise<RepairAnswer>;
}

const REQUEST_KINDS = new Set(['propose', 'read_index', 'checkpoint', 'repair']);

/** A checkpoint request's fields, checked like any peer input; throws on anything else. */
function checkpointOf(request: Record<string, unknown>): CheckpointRequest {
  const { index, state_hash, content_hash } = request;
  if (!isBoundedCount(index, INDEX_MAX) || !isSha256Hex(state_hash) || !isSha256Hex(content_hash)) throw new Error('malformed checkpoint request');
  return { index, state_hash, content_hash };
}

/** Checks decoded peer input (src/replication/peer-validation.ts); throws on anything malformed. */
export interface PeerInspector {
  messages(raw: unknown, sender_id: number): NodeMessage[];
  forwardedWrites(raw: unknown): ForwardedWrite[];
}

export interface ChannelOptions {
  self_id: number;
  /** Every other member, by id. */
  peer_urls: Map<number, string>;
  secret: Buffer;
  logger: Logger;
  inspect: PeerInspector;
  /** Leave from this address (chaos tests cut traffic by source address). */
  local_address?: string;
  tls?: TlsMaterial;
  frame_bytes_max: number;
  /** PING every this often; a connection silent for three is closed. */
  keepalive_ms: number;
  /**
   * The longest wait between two dials of a peer that refuses: a heartbeat, so
   * a peer that comes up is reached within one (a refused dial costs a few
   * microseconds; a longer back-off would hand the first election to chance).
   */
  redial_backoff_ms_max: number;
}

/** Bytes a connection may buffer unsent before it counts as stuck. */
export const CONNECTION_BACKLOG_BYTES_MAX = 256 * 1024 * 1024;
const DIAL_TIMEOUT_MS = 2000;
const REDIAL_BACKOFF_MS_MIN = 5;
const REQUESTS_PENDING_MAX = 100_000;

interface PendingRequest {
  resolve: (answer: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface Outbound {
  id: number;
  url: URL;
  connection: PeerConnection | null;
  dialing: boolean;
  /** The code of the last failed dial (ECONNREFUSED, …): what requests fail with until a dial works. */
  dial_error_code: string | null;
  redial_at_ms: number;
  backoff_ms: number;
  waiting_for_connection: Array<(connection: PeerConnection | null) => void>;
  pending: Map<number, PendingRequest>;
  /** The snapshot being sent to this peer, or sent lately: the replica sends one again when no answer came in time. */
  snapshot: SnapshotTransfer | null;
}

interface SnapshotTransfer {
  last_index: number;
  connection: PeerConnection;
  /** When its last part was written; null while parts are still going. */
  done_at_ms: number | null;
  /** A repair image (install_snapshot marked repair), not one of the replica's. */
  repair: boolean;
}

/**
 * A snapshot sent in full is not sent again on the same connection this soon:
 * a large one may still be loading at the slave when the replica, having heard
 * nothing within the fail-over timeout, sends it again.
 */
const SNAPSHOT_RESEND_AFTER_MS = 10_000;

function failure(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function refuseUpgrade(socket: Duplex, reason: string): void {
  const body = JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: reason } });
  socket.end(`HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export class ChannelTransport implements PeerTransport {
  private readonly outbound = new Map<number, Outbound>();
  private readonly inbound = new Set<PeerConnection>();
  /** Snapshots arriving in parts, by the connection they come on. */
  private readonly assemblies = new WeakMap<PeerConnection, SnapshotAssembly>();
  /** Connections whose refused input has been logged already: once per connection. */
  private readonly refusal_logged = new WeakSet<PeerConnection>();
  private readonly member_ids: Set<number>;
  private handlers: PeerHandlers | null = null;
  private request_count = 0;
  private readonly keepalive: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: ChannelOptions) {
    this.member_ids = new Set([options.self_id, ...options.peer_urls.keys()]);
    for (const [id, url] of options.peer_urls) {
      this.outbound.set(id, {
        id,
        url: new URL(url),
        connection: null,
        dialing: false,
        dial_error_code: null,
        redial_at_ms: 0,
        backoff_ms: REDIAL_BACKOFF_MS_MIN,
        waiting_for_connection: [],
        pending: new Map(),
        snapshot: null,
      });
    }
    this.keepalive = setInterval(() => this.checkConnections(), options.keepalive_ms);
    this.keepalive.unref();
  }

  attach(handlers: PeerHandlers): void {
    this.handlers = handlers;
  }

  // ---- sending -------------------------------------------------------------

  send(messages: NodeMessage[]): void {
    const by_peer = new Map<number, NodeMessage[]>();
    for (const message of messages) {
      const list = by_peer.get(message.to);
      if (list === undefined) by_peer.set(message.to, [message]);
      else list.push(message);
    }
    for (const [id, list] of by_peer) {
      const peer = this.outbound.get(id);
      if (peer === undefined) throw new Error(`message for unknown peer ${id}`);
      // Not connected: dropped (Raft sends again what a slave still lacks), and a dial starts.
      const connection = peer.connection;
      if (connection === null) {
        this.dial(peer);
        continue;
      }
      const others = list.filter((message) => message.type !== 'install_snapshot');
      if (others.length > 0) connection.send(FrameType.MESSAGES, JSON.stringify({ messages: others }));
      if (others.length < list.length) {
        for (const message of list) if (message.type === 'install_snapshot') this.sendSnapshot(peer, connection, message);
      }
    }
  }

  /** A repair image (content-check.ts), its image in the pieces the engine made; dropped when not connected. */
  sendRepair(message: OutgoingInstall): void {
    const peer = this.outbound.get(message.to);
    if (peer === undefined) throw new Error(`message for unknown peer ${message.to}`);
    if (peer.connection === null) return this.dial(peer);
    this.sendSnapshot(peer, peer.connection, message);
  }

  /** Starts a snapshot's parts (snapshot-stream.ts), unless the same one is on its way, or arrived lately, on this connection. */
  private sendSnapshot(peer: Outbound, connection: PeerConnection, message: OutgoingInstall): void {
    const last_index = message.snapshot.meta.last_index;
    const current = peer.snapshot;
    const same_connection = current !== null && current.connection === connection && connection.open;
    // One image at a time on a connection (the receiver assembles one): a repair image
    // (content-check.ts) waits for none and replaces none; a replica's snapshot replaces a repair.
    if (message.repair === true) {
      if (same_connection && current.done_at_ms === null) return;
    } else {
      const recent = current !== null && !current.repair && (current.done_at_ms === null || Date.now() - current.done_at_ms < SNAPSHOT_RESEND_AFTER_MS);
      if (recent && same_connection && current.last_index >= last_index) return;
    }
    const transfer: SnapshotTransfer = { last_index, connection, done_at_ms: null, repair: message.repair === true };
    peer.snapshot = transfer;
    this.sendParts(connection, message, () => peer.snapshot !== transfer).then(
      (sent) => {
        if (peer.snapshot !== transfer) return;
        if (sent) transfer.done_at_ms = Date.now();
        else peer.snapshot = null;
      },
      (error: unknown) => {
        if (peer.snapshot === transfer) peer.snapshot = null;
        this.snapshotFailed(peer, error);
      },
    );
  }

  /** Writes a snapshot's parts on `connection` (snapshot-stream.ts); false when it closed or `cancelled` said stop. */
  private sendParts(connection: PeerConnection, message: OutgoingInstall, cancelled: () => boolean): Promise<boolean> {
    const sink: PartSink = {
      get open() {
        return connection.open;
      },
      get backlog_bytes() {
        return connection.backlog_bytes;
      },
      sendBegin: (header) => connection.send(FrameType.SNAPSHOT_BEGIN, header),
      sendPart: (part) => connection.send(FrameType.SNAPSHOT_PART, Buffer.from(part.buffer, part.byteOffset, part.byteLength)),
      drained: () => connection.drained(),
    };
    return sendSnapshotParts(sink, message, cancelled);
  }

  private snapshotFailed(peer: Outbound, error: unknown): void {
    this.options.logger.error('sending a snapshot failed', { peer: peer.id, error: (error as Error)?.message ?? String(error) });
  }

  forwardWrites(master_id: number, writes: ForwardedWrite[], timeout_ms: number): Promise<ForwardAnswer[]> {
    return this.request(master_id, { kind: 'propose', writes }, timeout_ms) as Promise<ForwardAnswer[]>;
  }

  readIndex(master_id: number, timeout_ms: number): Promise<ReadIndexAnswer> {
    return this.request(master_id, { kind: 'read_index' }, timeout_ms) as Promise<ReadIndexAnswer>;
  }

  checkpoint(master_id: number, request: CheckpointRequest, timeout_ms: number): Promise<CheckpointAnswer> {
    return this.request(master_id, { kind: 'checkpoint', ...request }, timeout_ms) as Promise<CheckpointAnswer>;
  }

  requestRepair(master_id: number, timeout_ms: number): Promise<RepairAnswer> {
    return this.request(master_id, { kind: 'repair' }, timeout_ms) as Promise<RepairAnswer>;
  }

  passStarted(): void {}

  passEnded(): void {}

  idle(): void {}

  close(): void {
    this.closed = true;
    clearInterval(this.keepalive);
    for (const peer of this.outbound.values()) peer.connection?.close('the node is shutting down');
    for (const connection of this.inbound) connection.close('the node is shutting down');
  }

  private async request(peer_id: number, body: Record<string, unknown>, timeout_ms: number): Promise<unknown> {
    const peer = this.outbound.get(peer_id);
    if (peer === undefined) throw new Error(`request for unknown peer ${peer_id}`);
    if (peer.pending.size >= REQUESTS_PENDING_MAX) throw failure('EBUSY', `too many requests waiting for node ${peer_id}`);
    const connection = await this.connected(peer);
    if (connection === null) throw failure(peer.dial_error_code ?? 'ECONNREFUSED', `node ${peer_id} is unreachable`);
    this.request_count += 1;
    const id = this.request_count;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        peer.pending.delete(id);
        reject(failure('ETIMEDOUT', `node ${peer_id} did not answer within ${timeout_ms} ms`));
      }, Math.max(1, timeout_ms));
      peer.pending.set(id, { resolve, reject, timer });
      if (!connection.send(FrameType.REQUEST, JSON.stringify({ id, ...body }))) {
        clearTimeout(timer);
        peer.pending.delete(id);
        reject(failure('ECONNRESET', `the connection to node ${peer_id} closed`));
      }
    });
  }

  /** The open connection to `peer`, dialing if needed; null when the dial fails. */
  private connected(peer: Outbound): Promise<PeerConnection | null> {
    if (peer.connection !== null) return Promise.resolve(peer.connection);
    if (!peer.dialing && Date.now() < peer.redial_at_ms) return Promise.resolve(null);
    return new Promise((resolve) => {
      peer.waiting_for_connection.push(resolve);
      this.dial(peer);
    });
  }

  // ---- opening connections -------------------------------------------------

  private dial(peer: Outbound): void {
    if (peer.dialing || peer.connection !== null || this.closed || Date.now() < peer.redial_at_ms) return;
    peer.dialing = true;
    const client_nonce = newNonce();
    const ids = { client_id: this.options.self_id, server_id: peer.id, client_nonce };
    const tls = this.options.tls;
    const request = (peer.url.protocol === 'https:' ? https : http).request({
      hostname: peer.url.hostname,
      port: peer.url.port,
      path: PEER_PATH,
      method: 'GET',
      agent: false,
      timeout: DIAL_TIMEOUT_MS,
      ...(this.options.local_address === undefined ? {} : { localAddress: this.options.local_address }),
      ...(tls === undefined ? {} : { ca: tls.ca, cert: tls.cert, key: tls.key }),
      headers: {
        connection: 'Upgrade',
        upgrade: PEER_PROTOCOL,
        'x-ddb-from': String(ids.client_id),
        'x-ddb-to': String(ids.server_id),
        'x-ddb-nonce': client_nonce.toString('base64'),
        'x-ddb-proof': clientProof(this.options.secret, ids).toString('base64'),
      },
    });
    let settled = false;
    const fail = (code: string, why: string) => {
      if (settled) return;
      settled = true;
      request.destroy();
      this.dialed(peer, null, code);
      this.options.logger.debug('peer connection failed', { peer: peer.id, code, why });
    };
    request.on('upgrade', (response, socket, head) => {
      const server_nonce = parseNonce(response.headers['x-ddb-nonce']);
      const proof = Buffer.from(String(response.headers['x-ddb-proof'] ?? ''), 'base64');
      const full = server_nonce === null ? null : { ...ids, server_nonce };
      if (full === null || !verifyServerProof(this.options.secret, full, proof)) {
        socket.destroy();
        return fail('EPEERAUTH', `node ${peer.id} did not prove it holds the cluster secret`);
      }
      settled = true;
      const keys = sessionKeys(this.options.secret, full);
      const connection = this.connection({ socket, head, send_key: keys.client_to_server, receive_key: keys.server_to_client, role: 'opened', peer_id: peer.id });
      this.dialed(peer, connection, null);
    });
    request.on('response', (response) => {
      response.resume();
      fail('EPEERREFUSED', `node ${peer.id} refused the peer connection (${response.statusCode})`);
    });
    request.on('timeout', () => fail('ETIMEDOUT', 'no answer to the upgrade'));
    request.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? 'ECONNREFUSED', error.message));
    request.end();
  }

  private dialed(peer: Outbound, connection: PeerConnection | null, error_code: string | null): void {
    peer.dialing = false;
    peer.connection = connection;
    peer.dial_error_code = error_code;
    if (connection === null) {
      peer.redial_at_ms = Date.now() + peer.backoff_ms;
      peer.backoff_ms = Math.min(this.options.redial_backoff_ms_max, 2 * peer.backoff_ms);
    } else {
      peer.backoff_ms = REDIAL_BACKOFF_MS_MIN;
    }
    const waiting = peer.waiting_for_connection.splice(0);
    for (const resume of waiting) resume(connection);
  }

  // ---- accepting connections -----------------------------------------------

  /** An upgrade request on this node's server: a peer opening its connection, or anybody else (401). */
  accept(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (reason: string) => {
      this.options.logger.warn('refused a peer connection', { reason, remote: (socket as { remoteAddress?: string }).remoteAddress });
      refuseUpgrade(socket, reason);
    };
    if (this.closed) return refuse('the node is shutting down');
    if (request.url !== PEER_PATH || String(request.headers.upgrade).toLowerCase() !== PEER_PROTOCOL) return refuse('not a peer connection');
    if (this.options.tls !== undefined && !((socket as TLSSocket).encrypted && (socket as TLSSocket).authorized)) return refuse('no certificate from the cluster CA');
    const client_id = parseMemberId(request.headers['x-ddb-from'], this.member_ids);
    const server_id = parseMemberId(request.headers['x-ddb-to'], this.member_ids);
    const client_nonce = parseNonce(request.headers['x-ddb-nonce']);
    if (client_id === null || client_id === this.options.self_id || server_id !== this.options.self_id || client_nonce === null) {
      return refuse('the ids or the nonce are not those of a member of this cluster');
    }
    const proof = Buffer.from(String(request.headers['x-ddb-proof'] ?? ''), 'base64');
    if (!verifyClientProof(this.options.secret, { client_id, server_id, client_nonce }, proof)) {
      return refuse(`node ${client_id} did not prove it holds the cluster secret`);
    }
    const ids = { client_id, server_id, client_nonce, server_nonce: newNonce() };
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nupgrade: ${PEER_PROTOCOL}\r\nconnection: Upgrade\r\n` +
        `x-ddb-nonce: ${ids.server_nonce.toString('base64')}\r\nx-ddb-proof: ${serverProof(this.options.secret, ids).toString('base64')}\r\n\r\n`,
    );
    const keys = sessionKeys(this.options.secret, ids);
    this.connection({ socket, head, send_key: keys.server_to_client, receive_key: keys.client_to_server, role: 'accepted', peer_id: client_id });
  }

  // ---- one connection's frames ---------------------------------------------

  private connection(spec: { socket: Duplex; head: Buffer; send_key: Buffer; receive_key: Buffer; role: 'opened' | 'accepted'; peer_id: number }): PeerConnection {
    const connection: PeerConnection = new PeerConnection({
      socket: spec.socket,
      head: spec.head,
      send_key: spec.send_key,
      receive_key: spec.receive_key,
      role: spec.role,
      frame_bytes_max: this.options.frame_bytes_max,
      backlog_bytes_max: CONNECTION_BACKLOG_BYTES_MAX,
      now_ms: () => Date.now(),
      onFrame: (frame) => this.onFrame(connection, spec.peer_id, frame),
      onClose: (reason) => this.onClose(connection, spec.peer_id, spec.role, reason),
    });
    if (spec.role === 'accepted') this.inbound.add(connection);
    return connection;
  }

  private onFrame(connection: PeerConnection, peer_id: number, frame: Frame): void {
    try {
      switch (frame.type) {
        case FrameType.MESSAGES:
          return this.handlers?.receive(this.options.inspect.messages(JSON.parse(frame.body.toString()), peer_id));
        case FrameType.SNAPSHOT_BEGIN:
          return this.receiveSnapshot(peer_id, this.assembly(connection).begin(frame.body));
        case FrameType.SNAPSHOT_PART:
          return this.receiveSnapshot(peer_id, this.assembly(connection).part(frame.body));
        case FrameType.REQUEST:
          return this.serve(connection, peer_id, JSON.parse(frame.body.toString()));
        case FrameType.RESPONSE:
          return this.answered(peer_id, JSON.parse(frame.body.toString()));
        case FrameType.PING:
          connection.send(FrameType.PONG, Buffer.alloc(0));
          return;
        case FrameType.PONG:
          return;
      }
    } catch (error) {
      // Messages: nothing of the frame reaches the node, and the connection closes (so this is logged once for it).
      this.options.logger.warn('refused peer input', { peer: peer_id, error: (error as Error).message });
      connection.close(`bad input from node ${peer_id}: ${(error as Error).message}`);
    }
  }

  private assembly(connection: PeerConnection): SnapshotAssembly {
    let assembly = this.assemblies.get(connection);
    if (assembly === undefined) {
      assembly = new SnapshotAssembly();
      this.assemblies.set(connection, assembly);
    }
    return assembly;
  }

  /** A snapshot whose every part arrived goes the way of any message: checked, then to the node. */
  private receiveSnapshot(peer_id: number, whole: unknown | null): void {
    if (whole === null) return;
    this.handlers?.receive(this.options.inspect.messages({ messages: [whole] }, peer_id));
  }

  private serve(connection: PeerConnection, peer_id: number, request: unknown): void {
    const fields = (request ?? {}) as Record<string, unknown>;
    const { id, kind, writes } = fields;
    if (!Number.isSafeInteger(id) || typeof kind !== 'string' || !REQUEST_KINDS.has(kind)) throw new Error('malformed request');
    const handlers = this.handlers;
    if (handlers === null) return;
    let checked: ForwardedWrite[] = [];
    if (kind === 'propose') {
      try {
        checked = this.options.inspect.forwardedWrites(writes);
      } catch (error) {
        // A request is answered with the refusal (its sender fails that request), once logged per connection.
        const message = (error as Error).message;
        if (!this.refusal_logged.has(connection)) {
          this.refusal_logged.add(connection);
          this.options.logger.warn('refused peer input', { peer: peer_id, error: message });
        }
        connection.send(FrameType.RESPONSE, JSON.stringify({ id, error: { code: 'INVALID_REQUEST', message: `refused by node ${this.options.self_id}: ${message}` } }));
        return;
      }
    }
    const answer: Promise<unknown> =
      kind === 'propose'
        ? handlers.proposeForwarded(checked)
        : kind === 'read_index'
          ? handlers.answerReadIndex()
          : kind === 'checkpoint'
            ? handlers.answerCheckpoint(peer_id, checkpointOf(fields))
            : handlers.answerRepair(peer_id);
    answer.then(
      (result) => connection.send(FrameType.RESPONSE, JSON.stringify({ id, result })),
      (error: unknown) => this.options.logger.error('a peer request failed', { peer: peer_id, error: (error as Error)?.stack ?? String(error) }),
    );
  }

  private answered(peer_id: number, response: unknown): void {
    const { id, result, error } = (response ?? {}) as { id?: unknown; result?: unknown; error?: { message?: unknown } };
    const pending = this.outbound.get(peer_id)?.pending.get(id as number);
    if (pending === undefined) return; // answered after its timeout
    this.outbound.get(peer_id)?.pending.delete(id as number);
    clearTimeout(pending.timer);
    if (error !== undefined) pending.reject(failure('EPEERREFUSED', String(error?.message ?? 'refused by the peer')));
    else pending.resolve(result);
  }

  private onClose(connection: PeerConnection, peer_id: number, role: 'opened' | 'accepted', reason: string): void {
    this.options.logger.debug('peer connection closed', { peer: peer_id, role, reason });
    if (role === 'accepted') {
      this.inbound.delete(connection);
      return;
    }
    const peer = this.outbound.get(peer_id) as Outbound;
    if (peer.connection === connection) peer.connection = null;
    for (const [id, pending] of peer.pending) {
      clearTimeout(pending.timer);
      pending.reject(failure('ECONNRESET', `the connection to node ${peer_id} closed: ${reason}`));
      peer.pending.delete(id);
    }
  }

  /** Keep-alive: PING every open connection this node opened; close those silent for three rounds. */
  private checkConnections(): void {
    const silent_ms = 3 * this.options.keepalive_ms;
    const now_ms = Date.now();
    for (const peer of this.outbound.values()) {
      const connection = peer.connection;
      if (connection === null) continue;
      if (now_ms - connection.last_heard_ms > silent_ms) connection.close(`no word for ${silent_ms} ms`);
      else connection.send(FrameType.PING, Buffer.alloc(0));
    }
    for (const connection of this.inbound) {
      if (now_ms - connection.last_heard_ms > silent_ms) connection.close(`no word for ${silent_ms} ms`);
    }
  }
}
