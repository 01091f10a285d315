/**
 * The peer channel's framing: frames round-trip in order; a truncated frame
 * waits for its rest; anything altered, replayed, reordered, oversized or of
 * an unknown type stops the reader with PeerProtocolError, and nothing else
 * ever escapes it, whatever bytes arrive (fuzzed).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { FRAME_HEADER_BYTES, FrameReader, FrameType, FrameWriter, PeerProtocolError } from '../../src/replication/peer-frames';
import { clientProof, serverProof, sessionKeys, verifyClientProof, verifyServerProof } from '../../src/replication/peer-handshake';

const key = randomBytes(32);

function drain(reader: FrameReader): { type: number; body: string }[] {
  const frames: { type: number; body: string }[] = [];
  for (let frame = reader.next(); frame !== null; frame = reader.next()) frames.push({ type: frame.type, body: frame.body.toString() });
  return frames;
}

it('round-trips frames in order, in any chunking', () => {
  const writer = new FrameWriter(key);
  const bytes = Buffer.concat([writer.frame(FrameType.AUTH, ''), writer.frame(FrameType.MESSAGES, '{"messages":[]}'), writer.frame(FrameType.PING, '')]);
  for (let cut = 1; cut < bytes.length; cut += 3) {
    const reader = new FrameReader(key, 1024);
    reader.push(bytes.subarray(0, cut));
    const early = drain(reader);
    reader.push(bytes.subarray(cut));
    expect([...early, ...drain(reader)].map((frame) => frame.type)).toEqual([FrameType.AUTH, FrameType.MESSAGES, FrameType.PING]);
  }
});

it('waits for the rest of a truncated frame', () => {
  const reader = new FrameReader(key, 1024);
  reader.push(new FrameWriter(key).frame(FrameType.MESSAGES, 'x'.repeat(100)).subarray(0, 50));
  expect(reader.next()).toBeNull();
});

it.each([
  ['an altered body', (bytes: Buffer) => ((bytes[FRAME_HEADER_BYTES] = (bytes[FRAME_HEADER_BYTES] as number) ^ 1), bytes)],
  ['an altered tag', (bytes: Buffer) => ((bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1), bytes)],
  ['an unknown type', (bytes: Buffer) => ((bytes[4] = 99), bytes)],
  ['a length over the limit', (bytes: Buffer) => (bytes.writeUInt32BE(5000, 0), bytes)],
])('refuses %s', (_name, spoil) => {
  const reader = new FrameReader(key, 1024);
  reader.push(spoil(Buffer.from(new FrameWriter(key).frame(FrameType.MESSAGES, 'hello'))));
  expect(() => reader.next()).toThrow(PeerProtocolError);
});

it('refuses a replayed or reordered frame, and one tagged with another key', () => {
  const writer = new FrameWriter(key);
  const first = writer.frame(FrameType.PING, '');
  const second = writer.frame(FrameType.PING, '');
  const replay = new FrameReader(key, 1024);
  replay.push(Buffer.concat([first, first]));
  expect(replay.next()).not.toBeNull();
  expect(() => replay.next()).toThrow(PeerProtocolError);
  const reordered = new FrameReader(key, 1024);
  reordered.push(second);
  expect(() => reordered.next()).toThrow(PeerProtocolError);
  const foreign = new FrameReader(randomBytes(32), 1024);
  foreign.push(first);
  expect(() => foreign.next()).toThrow(PeerProtocolError);
});

it('never lets anything but PeerProtocolError escape, whatever arrives', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
      const reader = new FrameReader(key, 1024);
      try {
        for (const chunk of chunks) {
          reader.push(Buffer.from(chunk));
          drain(reader);
        }
      } catch (error) {
        if (!(error instanceof PeerProtocolError)) throw error;
      }
    }),
    { numRuns: 2000 },
  );
});

it('binds the ids and both nonces into the proofs and the keys', () => {
  const secret = randomBytes(32);
  const hello = { client_id: 2, server_id: 1, client_nonce: randomBytes(32) };
  const ids = { ...hello, server_nonce: randomBytes(32) };
  expect(verifyClientProof(secret, hello, clientProof(secret, hello))).toBe(true);
  expect(verifyClientProof(secret, { ...hello, client_id: 3 }, clientProof(secret, hello))).toBe(false);
  expect(verifyClientProof(randomBytes(32), hello, clientProof(secret, hello))).toBe(false);
  expect(verifyServerProof(secret, ids, serverProof(secret, ids))).toBe(true);
  expect(verifyServerProof(secret, { ...ids, server_nonce: randomBytes(32) }, serverProof(secret, ids))).toBe(false);
  const keys = sessionKeys(secret, ids);
  expect(keys.client_to_server.equals(keys.server_to_client)).toBe(false);
  expect(sessionKeys(secret, { ...ids, server_id: 3 }).client_to_server.equals(keys.client_to_server)).toBe(false);
});
