/**
 * Peer traffic over HTTP (axios, keep-alive). Replication messages are
 * fire-and-forget: Raft tolerates loss, and answers come back as messages of
 * their own. Messages for one peer are coalesced: while `requests_in_flight_max`
 * requests to it are open, new messages queue (bounded) and leave together in
 * the next request, so a busy master sends batches, not one request per entry.
 */
import http from 'node:http';
import axios, { type AxiosInstance } from 'axios';
import type { Command } from '../../database/commands';
import type { ErrorBody } from '../../utils/errors';
import type { Logger } from '../../utils/logger';
import { encodeWire, decodeWire } from './wire';

export const REQUESTS_IN_FLIGHT_MAX = 2;
export const QUEUED_MESSAGES_MAX = 4096;
export const MESSAGE_TIMEOUT_MS = 2000;

export interface AddressedMessage {
  to: number;
}

export type ForwardResult = { ok: true; value: unknown } | { ok: false; error: ErrorBody };
export type ReadIndexResult = { ok: true; index: number } | { ok: false; error: ErrorBody };

interface PeerQueue {
  url: string;
  queued: AddressedMessage[];
  in_flight: number;
}

export class HttpTransport<M extends AddressedMessage> {
  private readonly client: AxiosInstance;
  private readonly agent: http.Agent;
  private readonly peers = new Map<number, PeerQueue>();

  /**
   * `local_address`: the node's own IP; peer connections leave from it, so
   * that the traffic between two nodes on one machine (each on its own
   * loopback address) can be told apart and cut by a firewall in chaos tests.
   */
  constructor(
    peerUrls: Map<number, string>,
    private readonly logger: Logger,
    local_address?: string,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 16, ...(local_address === undefined ? {} : { localAddress: local_address }) });
    this.client = axios.create({
      httpAgent: this.agent,
      headers: { 'content-type': 'application/json' },
      transformResponse: (data: string) => data,
      validateStatus: () => true,
      maxRedirects: 0,
    });
    for (const [id, url] of peerUrls) this.peers.set(id, { url, queued: [], in_flight: 0 });
  }

  send(messages: M[]): void {
    for (const message of messages) {
      const peer = this.peers.get(message.to);
      if (peer === undefined) throw new Error(`message for unknown peer ${message.to}`);
      // A full queue means the peer is not keeping up (or is gone): dropping is
      // safe, the master re-sends what the slave still lacks.
      if (peer.queued.length < QUEUED_MESSAGES_MAX) peer.queued.push(message);
    }
    for (const peer of this.peers.values()) this.flush(peer);
  }

  private flush(peer: PeerQueue): void {
    if (peer.queued.length === 0 || peer.in_flight >= REQUESTS_IN_FLIGHT_MAX) return;
    const batch = peer.queued;
    peer.queued = [];
    peer.in_flight += 1;
    this.client
      .post(`${peer.url}/internal/raft`, encodeWire({ messages: batch }), { timeout: MESSAGE_TIMEOUT_MS })
      .catch((error: Error) => this.logger.debug('peer unreachable', { url: peer.url, error: error.message }))
      .finally(() => {
        peer.in_flight -= 1;
        this.flush(peer);
      });
  }

  /** A slave's write, run by the master; connection errors are thrown to the caller. */
  async forwardWrite(masterUrl: string, command: Command, timeout_ms: number): Promise<ForwardResult> {
    const response = await this.client.post(`${masterUrl}/internal/propose`, encodeWire({ command }), { timeout: timeout_ms });
    return decodeWire<ForwardResult>(response.data as string);
  }

  /** Asks the master for a read index it has confirmed with a majority. */
  async readIndex(masterUrl: string, timeout_ms: number): Promise<ReadIndexResult> {
    const response = await this.client.post(`${masterUrl}/internal/read_index`, '{}', { timeout: timeout_ms });
    return decodeWire<ReadIndexResult>(response.data as string);
  }

  close(): void {
    this.agent.destroy();
  }
}
