/**
 * One authenticated peer connection, either end: frames out with this end's
 * key, frames in checked with the other's (peer-frames.ts). The side that
 * accepted the connection takes nothing but a first AUTH frame, at most a few
 * bytes, until that frame's tag proves the other side holds this
 * connection's key; only then does it accept frames up to the full limit.
 *
 * Any protocol fault (a bad tag, an unknown type, an oversized frame, a
 * frame before AUTH) closes the connection: nothing of it is decoded.
 */
import type { Duplex } from 'node:stream';
import { type Frame, FrameReader, FrameType, type FrameTypeCode, FrameWriter, PeerProtocolError } from './peer-frames';

/** Before AUTH, no frame may carry more than this. */
const UNAUTHENTICATED_BODY_BYTES_MAX = 64;

export interface ConnectionOptions {
  socket: Duplex;
  send_key: Buffer;
  receive_key: Buffer;
  /** The largest frame body accepted once authenticated. */
  frame_bytes_max: number;
  /** Bytes the socket may buffer unsent before the connection is taken as stuck and closed. */
  backlog_bytes_max: number;
  /** The accepting side waits for AUTH; the opening side sends it. */
  role: 'opened' | 'accepted';
  /** Bytes that arrived with the upgrade, before the socket was handed over. */
  head?: Buffer;
  onFrame(frame: Frame): void;
  onClose(reason: string): void;
  now_ms(): number;
}

export class PeerConnection {
  private readonly writer: FrameWriter;
  private readonly reader: FrameReader;
  private authenticated: boolean;
  private closed = false;
  /** When a frame last arrived: a silent connection is closed by its owner's keep-alive check. */
  last_heard_ms: number;

  constructor(private readonly options: ConnectionOptions) {
    this.writer = new FrameWriter(options.send_key);
    this.authenticated = options.role === 'opened';
    this.reader = new FrameReader(options.receive_key, this.authenticated ? options.frame_bytes_max : UNAUTHENTICATED_BODY_BYTES_MAX);
    this.last_heard_ms = options.now_ms();
    const socket = options.socket;
    (socket as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', (error: Error) => this.close(`socket error: ${error.message}`));
    socket.on('close', () => this.close('closed by the other side'));
    if (options.role === 'opened') this.send(FrameType.AUTH, Buffer.alloc(0));
    if (options.head !== undefined && options.head.length > 0) this.received(options.head);
  }

  get open(): boolean {
    return !this.closed;
  }

  /** Bytes written to the socket and not yet taken by the kernel. */
  get backlog_bytes(): number {
    return (this.options.socket as Duplex & { writableLength: number }).writableLength;
  }

  /** Resolves once the socket's backlog has drained, or the connection closed. */
  drained(): Promise<void> {
    if (this.closed || this.backlog_bytes === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.options.socket.off('drain', done);
        this.options.socket.off('close', done);
        resolve();
      };
      this.options.socket.on('drain', done);
      this.options.socket.on('close', done);
    });
  }

  /** Sends one frame; false when the connection is closed or was stuck (then it is closed now). */
  send(type: FrameTypeCode, body: Buffer | string): boolean {
    if (this.closed) return false;
    const socket = this.options.socket as Duplex & { writableLength: number };
    if (socket.writableLength > this.options.backlog_bytes_max) {
      this.close(`more than ${this.options.backlog_bytes_max} bytes unsent: the peer is not reading`);
      return false;
    }
    socket.write(this.writer.frame(type, body));
    return true;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.options.socket.destroy();
    this.options.onClose(reason);
  }

  private received(chunk: Buffer): void {
    if (this.closed) return;
    this.reader.push(chunk);
    for (;;) {
      let frame: Frame | null;
      try {
        frame = this.reader.next();
      } catch (error) {
        this.close(error instanceof PeerProtocolError ? error.message : `bad frame: ${(error as Error).message}`);
        return;
      }
      if (frame === null || this.closed) return;
      this.last_heard_ms = this.options.now_ms();
      if (!this.authenticated) {
        if (frame.type !== FrameType.AUTH) return this.close(`frame of type ${frame.type} before AUTH`);
        this.authenticated = true;
        this.reader.body_bytes_max = this.options.frame_bytes_max;
        continue;
      }
      if (frame.type === FrameType.AUTH) return this.close('a second AUTH frame');
      this.options.onFrame(frame);
    }
  }
}
