/**
 * The framing of ddb's storage files: a file is a sequence of frames
 * `[u32 LE payload length][u32 LE crc32][payload]`. The checksum covers the four
 * length bytes and then the payload, so a damaged length is caught as well as a
 * damaged payload. Pure functions over buffers: no file system here.
 *
 * Telling a torn tail from corruption. The log is written by appending one frame
 * per save() and fsyncing before the next save() starts, so a crash can only
 * damage the bytes of the last frame: its own bytes, zeros where the file grew but
 * the data never reached the disk, or nothing at all past some point. Such a tail
 * is dropped. A bad frame with a good frame anywhere after it is not a torn write:
 * it is a disk fault or a bug, and scanning refuses to go on rather than silently
 * drop the good frames. A valid frame cannot hide inside a JSON payload by accident:
 * a length under 0x20202020 has a byte below 0x20 that JSON text never contains
 * unescaped.
 */
import zlib from 'node:zlib';

export const FRAME_HEADER_BYTES = 8;
/** Largest payload of one frame: one save() batch, or one snapshot image. */
export const FRAME_PAYLOAD_BYTES_MAX = 1024 * 1024 * 1024;

export interface FrameScan {
  /** The payloads of the valid frames, in file order (views into the scanned buffer). */
  payloads: Buffer[];
  /** Bytes from the start of the file up to the end of the last valid frame. */
  valid_bytes: number;
  /** Bytes of a torn last frame after `valid_bytes`; 0 when the file ends cleanly. */
  torn_bytes: number;
}

function frameChecksum(buffer: Buffer, offset: number, payloadBytes: number): number {
  const lengthBytes = buffer.subarray(offset, offset + 4);
  const payload = buffer.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + payloadBytes);
  return zlib.crc32(payload, zlib.crc32(lengthBytes));
}

/** Frames a JSON text. One allocation: the text is encoded straight after the header. */
export function encodeJsonFrame(json: string): Buffer {
  const payloadBytes = Buffer.byteLength(json, 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
  frame.write(json, FRAME_HEADER_BYTES, 'utf8');
  return sealFrame(frame, payloadBytes);
}

/**
 * Frames payload parts without copying them (a snapshot image can be large): the
 * result is the header followed by the parts, to be written in order.
 */
export function encodeFrameParts(parts: Uint8Array[]): Uint8Array[] {
  const payloadBytes = parts.reduce((sum, part) => sum + part.byteLength, 0);
  assertPayloadBytes(payloadBytes);
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(payloadBytes, 0);
  let checksum = zlib.crc32(header.subarray(0, 4));
  for (const part of parts) checksum = zlib.crc32(part, checksum);
  header.writeUInt32LE(checksum, 4);
  return [header, ...parts];
}

function assertPayloadBytes(payloadBytes: number): void {
  if (payloadBytes === 0 || payloadBytes > FRAME_PAYLOAD_BYTES_MAX) {
    throw new Error(`frame payload of ${payloadBytes} bytes is outside 1..${FRAME_PAYLOAD_BYTES_MAX}`);
  }
}

function sealFrame(frame: Buffer, payloadBytes: number): Buffer {
  assertPayloadBytes(payloadBytes);
  frame.writeUInt32LE(payloadBytes, 0);
  frame.writeUInt32LE(frameChecksum(frame, 0, payloadBytes), 4);
  return frame;
}

/**
 * The end offset of the frame starting at `offset`, or null when no valid frame
 * starts there. Empty frames are never written, so a zeroed header is not a frame.
 */
export function validFrameEnd(buffer: Buffer, offset: number): number | null {
  if (buffer.length - offset < FRAME_HEADER_BYTES) return null;
  const payloadBytes = buffer.readUInt32LE(offset);
  if (payloadBytes === 0 || payloadBytes > FRAME_PAYLOAD_BYTES_MAX) return null;
  const end = offset + FRAME_HEADER_BYTES + payloadBytes;
  if (end > buffer.length) return null;
  if (frameChecksum(buffer, offset, payloadBytes) !== buffer.readUInt32LE(offset + 4)) return null;
  return end;
}

/**
 * Reads every frame of a file. A damaged last frame is reported in `torn_bytes`;
 * damage followed by a valid frame throws (see the file comment).
 */
export function scanFrames(buffer: Buffer, fileName: string): FrameScan {
  const payloads: Buffer[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const end = validFrameEnd(buffer, offset);
    if (end === null) break;
    payloads.push(buffer.subarray(offset + FRAME_HEADER_BYTES, end));
    offset = end;
  }
  if (offset < buffer.length) assertTornTail(buffer, offset, fileName);
  return { payloads, valid_bytes: offset, torn_bytes: buffer.length - offset };
}

function assertTornTail(buffer: Buffer, badOffset: number, fileName: string): void {
  const tailBytes = buffer.length - badOffset;
  // One torn write is at most one frame long; a longer damaged tail is not one.
  if (tailBytes > FRAME_HEADER_BYTES + FRAME_PAYLOAD_BYTES_MAX) {
    throw new Error(`${fileName}: corrupt frame at byte ${badOffset}, followed by ${tailBytes} bytes: too long for a torn write`);
  }
  for (let offset = badOffset + 1; offset + FRAME_HEADER_BYTES < buffer.length; offset += 1) {
    if (validFrameEnd(buffer, offset) !== null) {
      throw new Error(
        `${fileName}: corrupt frame at byte ${badOffset} is followed by a valid frame at byte ${offset}; ` +
          'this is disk corruption or a bug, not a torn write, and is not repaired automatically',
      );
    }
  }
}
