/**
 * The frames of the peer channel, both ways on one connection:
 *
 *   [u32 body length][u8 type][body][16-byte tag]
 *
 * The tag is HMAC-SHA256 (truncated to 128 bits) under the connection's key
 * for that direction, over the frame's sequence number (implicit: 0, 1, 2, …
 * per direction), its type and its body. A frame that is forged, altered,
 * replayed, reordered or taken from another connection fails its tag, and
 * the reader stops at the first such frame, before anything is decoded: the
 * connection is then closed. A length over the reader's limit stops it too,
 * before the body is buffered.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export const FRAME_HEADER_BYTES = 5;
export const FRAME_TAG_BYTES = 16;

export const FrameType = {
  /** Client → server, first frame: its valid tag proves the client holds the cluster secret. */
  AUTH: 1,
  /** Replication messages (JSON) other than install_snapshot, which travels as SNAPSHOT_BEGIN and SNAPSHOT_PARTs. */
  MESSAGES: 2,
  /** A request with an id (forwarded writes, a read index). */
  REQUEST: 3,
  /** The answer to a request, by id. */
  RESPONSE: 4,
  /** Keep-alive: the other side answers PONG; a silent connection is closed. */
  PING: 5,
  PONG: 6,
  /** An install_snapshot without its image (JSON), and the image's length: the parts follow (snapshot-stream.ts). */
  SNAPSHOT_BEGIN: 7,
  /** The next bytes of the image announced by the last SNAPSHOT_BEGIN. */
  SNAPSHOT_PART: 8,
} as const;

export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

const KNOWN_TYPES = new Set<number>(Object.values(FrameType));

export class PeerProtocolError extends Error {
  override name = 'PeerProtocolError';
}

export interface Frame {
  type: FrameTypeCode;
  body: Buffer;
}

/** The key is a KeyObject made once per direction: a raw Buffer is imported again on every createHmac (~1 µs a frame). */
function tagOf(key: KeyObject, sequence: bigint, type: number, body: Buffer): Buffer {
  const prefix = Buffer.allocUnsafe(9);
  prefix.writeBigUInt64BE(sequence, 0);
  prefix.writeUInt8(type, 8);
  return createHmac('sha256', key).update(prefix).update(body).digest().subarray(0, FRAME_TAG_BYTES);
}

/** Frames one direction of a connection: each one numbered, each tagged. */
export class FrameWriter {
  private sequence = 0n;
  private readonly key: KeyObject;

  constructor(key: Buffer) {
    this.key = createSecretKey(key);
  }

  frame(type: FrameTypeCode, body: Buffer | string): Buffer {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    header.writeUInt32BE(bytes.length, 0);
    header.writeUInt8(type, 4);
    const tag = tagOf(this.key, this.sequence, type, bytes);
    this.sequence += 1n;
    return Buffer.concat([header, bytes, tag]);
  }
}

/**
 * Reads the other direction: push() the bytes as they arrive, and take with
 * next() the frames whose tags verify. Throws PeerProtocolError at the first bad one.
 */
export class FrameReader {
  private sequence = 0n;
  private pending: Buffer[] = [];
  private pending_bytes = 0;

  private readonly key: KeyObject;

  constructor(
    key: Buffer,
    /** The largest body accepted; may be raised once the peer is authenticated. */
    public body_bytes_max: number,
  ) {
    this.key = createSecretKey(key);
  }

  push(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pending_bytes += chunk.length;
  }

  /** The next complete frame, or null until more bytes arrive. One at a time: the limit may change between two. */
  next(): Frame | null {
    if (this.pending_bytes < FRAME_HEADER_BYTES) return null;
    const head = this.peek(FRAME_HEADER_BYTES);
    const body_bytes = head.readUInt32BE(0);
    const type = head.readUInt8(4);
    if (!KNOWN_TYPES.has(type)) throw new PeerProtocolError(`unknown frame type ${type}`);
    if (body_bytes > this.body_bytes_max) throw new PeerProtocolError(`frame of ${body_bytes} bytes is over the limit of ${this.body_bytes_max}`);
    const frame_bytes = FRAME_HEADER_BYTES + body_bytes + FRAME_TAG_BYTES;
    if (this.pending_bytes < frame_bytes) return null;
    const whole = this.take(frame_bytes);
    const body = whole.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + body_bytes);
    const tag = whole.subarray(FRAME_HEADER_BYTES + body_bytes);
    if (!timingSafeEqual(tag, tagOf(this.key, this.sequence, type, body))) {
      throw new PeerProtocolError(`frame ${this.sequence} fails its tag (forged, altered, replayed or out of order)`);
    }
    this.sequence += 1n;
    return { type: type as FrameTypeCode, body };
  }

  private peek(bytes: number): Buffer {
    if ((this.pending[0] as Buffer).length < bytes) this.pending = [Buffer.concat(this.pending)];
    return (this.pending[0] as Buffer).subarray(0, bytes);
  }

  private take(bytes: number): Buffer {
    const all = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    const taken = all.subarray(0, bytes);
    const rest = all.subarray(bytes);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pending_bytes = rest.length;
    return taken;
  }
}
