/**
 * A snapshot travels the peer channel in parts: a SNAPSHOT_BEGIN frame with
 * the install_snapshot message minus its image and the image's length, then
 * SNAPSHOT_PART frames of raw bytes, sent only as fast as the socket drains.
 * Sent whole, a database of a few hundred megabytes became one base64 JSON
 * text beyond what V8 can make a string (the master died in the encoding, and
 * the next master after it); in parts nothing is encoded, the unsent backlog
 * stays small, and heartbeats and appends go between the parts, so the slave
 * does not take the master for dead during a long transfer.
 *
 * The receiving end puts the parts back together on the connection they came
 * on and hands the whole message on only when every byte has arrived; each
 * part is tagged like any frame (peer-frames.ts), and the image's checksum is
 * checked after (peer-validation.ts), before anything is replaced.
 */
import { constants as bufferConstants } from 'node:buffer';
import type { InstallSnapshot, SnapshotMeta } from './messages';
import { PeerProtocolError } from './peer-frames';
import { imageParts } from './storage-records';

/** Bytes per SNAPSHOT_PART frame. */
export const SNAPSHOT_PART_BYTES = 1024 * 1024;
/** Parts are written while the socket buffers less than this; then the sender waits for it to drain. */
export const SNAPSHOT_SEND_BACKLOG_BYTES = 4 * SNAPSHOT_PART_BYTES;
/** The largest image a node takes: the largest Buffer Node can make. */
export const SNAPSHOT_BYTES_MAX = bufferConstants.MAX_LENGTH;

/** What a sender needs of a connection. */
export interface PartSink {
  readonly open: boolean;
  /** Bytes written but not yet handed to the kernel. */
  readonly backlog_bytes: number;
  sendBegin(header: string): boolean;
  sendPart(part: Uint8Array): boolean;
  /** Resolves when the backlog has drained, or the connection closed. */
  drained(): Promise<void>;
}

/**
 * An install_snapshot as it is sent: its image may be in pieces, sent in
 * order as one image (a repair image straight from the engine's databases,
 * not copied into one buffer first).
 */
export type OutgoingInstall = Omit<InstallSnapshot, 'snapshot'> & { snapshot: { meta: SnapshotMeta; data: Uint8Array | readonly Uint8Array[] } };

/** The install_snapshot's SNAPSHOT_BEGIN text: the message with its image left out, and the image's length. */
export function beginHeader(message: OutgoingInstall): string {
  const { data: _image, ...snapshot } = message.snapshot;
  const bytes = imageParts(message.snapshot.data).reduce((sum, piece) => sum + piece.byteLength, 0);
  return JSON.stringify({ message: { ...message, snapshot }, bytes });
}

/** Sends one snapshot's parts; resolves true once every part was written, false if the connection closed or `cancelled()` said stop. */
export async function sendSnapshotParts(sink: PartSink, message: OutgoingInstall, cancelled: () => boolean): Promise<boolean> {
  if (!sink.sendBegin(beginHeader(message))) return false;
  for (const piece of imageParts(message.snapshot.data)) {
    for (let offset = 0; offset < piece.byteLength; offset += SNAPSHOT_PART_BYTES) {
      while (sink.open && sink.backlog_bytes > SNAPSHOT_SEND_BACKLOG_BYTES) await sink.drained();
      if (!sink.open || cancelled()) return false;
      if (!sink.sendPart(piece.subarray(offset, Math.min(piece.byteLength, offset + SNAPSHOT_PART_BYTES)))) return false;
    }
  }
  return true;
}

/** One connection's snapshot being put back together. */
export class SnapshotAssembly {
  private message: Record<string, unknown> | null = null;
  private image: Buffer | null = null;
  private received = 0;

  /** A SNAPSHOT_BEGIN: starts a new image (dropping one not finished). Returns the whole message at once for an empty image. */
  begin(body: Buffer): unknown | null {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString());
    } catch {
      throw new PeerProtocolError('SNAPSHOT_BEGIN is not JSON');
    }
    const { message, bytes } = (parsed ?? {}) as { message?: unknown; bytes?: unknown };
    const snapshot = (message as { snapshot?: unknown } | null)?.snapshot;
    if (message === null || typeof message !== 'object' || Array.isArray(message) || snapshot === null || typeof snapshot !== 'object') {
      throw new PeerProtocolError('SNAPSHOT_BEGIN carries no install_snapshot');
    }
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0 || bytes > SNAPSHOT_BYTES_MAX) {
      throw new PeerProtocolError(`SNAPSHOT_BEGIN announces ${String(bytes)} bytes; at most ${SNAPSHOT_BYTES_MAX}`);
    }
    this.message = message as Record<string, unknown>;
    this.image = Buffer.allocUnsafe(bytes);
    this.received = 0;
    return bytes === 0 ? this.finish() : null;
  }

  /** A SNAPSHOT_PART: the next bytes. Returns the whole message (image attached) once the last byte arrived, else null. */
  part(body: Buffer): unknown | null {
    const image = this.image;
    if (image === null) throw new PeerProtocolError('SNAPSHOT_PART without a SNAPSHOT_BEGIN');
    if (this.received + body.length > image.length) {
      throw new PeerProtocolError(`SNAPSHOT_PART beyond the ${image.length} bytes announced`);
    }
    body.copy(image, this.received);
    this.received += body.length;
    return this.received === image.length ? this.finish() : null;
  }

  private finish(): unknown {
    const message = this.message as Record<string, unknown>;
    const whole = { ...message, snapshot: { ...(message.snapshot as object), data: asBytes(this.image as Buffer) } };
    this.message = null;
    this.image = null;
    this.received = 0;
    return whole;
  }
}

function asBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
