/**
 * Peer traffic over HTTP: keep-alive node:http, which costs a fraction of what
 * axios does per request on this, the hottest path. Replication messages are
 * fire-and-forget: Raft tolerates loss, and answers are messages of their own.
 * Messages for one peer are coalesced: while `requests_in_flight_max` requests
 * to it are open, new messages queue (bounded) and leave together in the next
 * request, so a busy master sends batches, not one request per entry.
 *
 * Answers ride back on the request that caused them: while a peer's request is
 * open here (openReply), messages for that peer go into its response instead of
 * a request of their own. A slave's append responses thus cost the master no
 * inbound HTTP request at all, only the body of a response it was reading anyway.
 */
import http from 'node:http';
import type { Logger } from '../../utils/logger';
import type { ForwardAnswer, ForwardedWrite, ReadIndexAnswer } from '../node/peer-transport';
import { decodeWire, encodeMessages, encodeWire } from './wire';

export const REQUESTS_IN_FLIGHT_MAX = 2;
export const QUEUED_MESSAGES_MAX = 4096;
export const MESSAGE_TIMEOUT_MS = 2000;
/**
 * Sockets per peer. Forwarded writes each hold one until the master has
 * committed them, so this bounds the writes a slave has in flight: with ~10 ms
 * commits, 16 sockets capped a slave at ~1,600 forwarded writes/s.
 */
export const SOCKETS_PER_PEER_MAX = 256;

export interface AddressedMessage {
  type: string;
  to: number;
}

interface HttpAnswer {
  status: number;
  text: string;
}

interface OpenReply<M> {
  /** Its place in the order replies were opened, for closeReplies(mark). */
  opened: number;
  messages: M[];
  resolve: (messages: M[]) => void;
}

interface PeerQueue<M> {
  url: string;
  queued: M[];
  in_flight: number;
  /** Responses to this peer's open requests, oldest first, waiting for the messages of a ready pass. */
  replies: OpenReply<M>[];
}

export class HttpTransport<M extends AddressedMessage> {
  private readonly agent: http.Agent;
  private readonly peers = new Map<number, PeerQueue<M>>();
  private repliesOpened = 0;
  /** The replies open when the current ready pass took its work: it answers them. */
  private passMark = 0;

  /**
   * `deliver` takes the messages peers put in their responses.
   * `local_address`: the node's own IP; peer connections leave from it, so
   * that the traffic between two nodes on one machine (each on its own
   * loopback address) can be told apart and cut by a firewall in chaos tests.
   */
  constructor(
    peerUrls: Map<number, string>,
    private readonly deliver: (messages: M[]) => void,
    private readonly logger: Logger,
    local_address?: string,
  ) {
    this.agent = new http.Agent({
      keepAlive: true,
      maxSockets: SOCKETS_PER_PEER_MAX,
      ...(local_address === undefined ? {} : { localAddress: local_address }),
    });
    for (const [id, url] of peerUrls) this.peers.set(id, { url, queued: [], in_flight: 0, replies: [] });
  }

  send(messages: M[]): void {
    for (const message of messages) {
      const peer = this.peer(message.to);
      const reply = peer.replies[0];
      if (reply !== undefined) reply.messages.push(message);
      // A full queue means the peer is not keeping up (or is gone): dropping is
      // safe, the master re-sends what the slave still lacks.
      else if (peer.queued.length < QUEUED_MESSAGES_MAX) peer.queued.push(message);
    }
    for (const peer of this.peers.values()) this.flush(peer);
  }

  /**
   * Holds the response to a request from `from` open: what send() addresses to
   * it until closeReplies() is answered in that response.
   */
  openReply(from: number): Promise<M[]> {
    const peer = this.peer(from);
    this.repliesOpened += 1;
    const opened = this.repliesOpened;
    return new Promise((resolve) => peer.replies.push({ opened, messages: [], resolve }));
  }

  passStarted(): void {
    this.passMark = this.repliesOpened;
  }

  passEnded(): void {
    this.closeReplies(this.passMark);
  }

  idle(): void {
    this.closeReplies(Infinity);
  }

  /** Answers the replies opened up to `mark` with what was sent to their peer meanwhile (often nothing). */
  private closeReplies(mark: number): void {
    for (const peer of this.peers.values()) {
      const closing = peer.replies.filter((reply) => reply.opened <= mark);
      if (closing.length === 0) continue;
      peer.replies = peer.replies.filter((reply) => reply.opened > mark);
      for (const reply of closing) reply.resolve(reply.messages);
    }
  }

  private peer(id: number): PeerQueue<M> {
    const peer = this.peers.get(id);
    if (peer === undefined) throw new Error(`message for unknown peer ${id}`);
    return peer;
  }

  private flush(peer: PeerQueue<M>): void {
    if (peer.queued.length === 0 || peer.in_flight >= REQUESTS_IN_FLIGHT_MAX) return;
    const batch = peer.queued;
    peer.queued = [];
    peer.in_flight += 1;
    this.post(`${peer.url}/internal/raft`, encodeMessages(batch), MESSAGE_TIMEOUT_MS)
      .then((answer) => {
        if (answer.status !== 200) throw new Error(`status ${answer.status}`);
        this.deliver(decodeWire<{ messages: M[] }>(answer.text).messages);
      })
      .catch((error: Error) => this.logger.debug('peer unreachable', { url: peer.url, error: error.message }))
      .finally(() => {
        peer.in_flight -= 1;
        this.flush(peer);
      });
  }

  /** `timeout_ms` is the longest silence on the socket; errors (ECONNREFUSED, timeout) reject. */
  private post(url: string, body: string, timeout_ms: number): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const request = http.request(url, {
        method: 'POST',
        agent: this.agent,
        timeout: timeout_ms,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', reject);
      request.end(body);
    });
  }

  /**
   * A slave's writes, run by the master (batched by ForwardQueue); one result
   * per command, in order. Connection errors and a refusal of the whole batch
   * are thrown to the caller.
   */
  async forwardWrites(master_id: number, writes: ForwardedWrite[], timeout_ms: number): Promise<ForwardAnswer[]> {
    const answer = await this.post(`${this.peer(master_id).url}/internal/propose`, encodeWire({ writes }), timeout_ms);
    if (answer.status !== 200) throw new Error(`the master refused the forwarded writes: ${answer.status} ${answer.text}`);
    return decodeWire<{ results: ForwardAnswer[] }>(answer.text).results;
  }

  /** Asks the master for a read index it has confirmed with a majority. */
  async readIndex(master_id: number, timeout_ms: number): Promise<ReadIndexAnswer> {
    const answer = await this.post(`${this.peer(master_id).url}/internal/read_index`, '{}', timeout_ms);
    return decodeWire<ReadIndexAnswer>(answer.text);
  }

  close(): void {
    this.closeReplies(Infinity);
    this.agent.destroy();
  }
}
