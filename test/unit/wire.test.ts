/** Peer messages survive the wire, snapshot bytes included (Buffer and plain Uint8Array alike). */
import { decodeWire, encodeMessages, encodeWire } from '../../src/replication/wire';

it.each([
  ['a Buffer', Buffer.from([0, 1, 2, 255])],
  ['a Uint8Array', new Uint8Array([9, 8, 7])],
  ['a view into a larger buffer', new Uint8Array(Buffer.from([1, 2, 3, 4, 5]).buffer, 1, 2)],
])('round-trips %s inside a message', (_name, bytes) => {
  const message = { type: 'install_snapshot', term: 3, snapshot: { meta: { last_index: 7, last_term: 2 }, data: bytes } };
  const decoded = decodeWire<typeof message>(encodeWire({ messages: [message] }) as string) as unknown as { messages: (typeof message)[] };
  const data = decoded.messages[0].snapshot.data;
  expect(data).toBeInstanceOf(Uint8Array);
  expect([...data]).toEqual([...bytes]);
  expect(decoded.messages[0].snapshot.meta).toEqual({ last_index: 7, last_term: 2 });
});

describe('encodeMessages', () => {
  const append = { type: 'append_entries', from: 1, to: 2, term: 4, entries: [{ index: 1, term: 4, data: { command: { type: 'insert' }, note: '$bytes' } }] };

  it('writes plain JSON when no message carries bytes, and it decodes to the same messages', () => {
    const text = encodeMessages([append]);
    expect(text).toBe(JSON.stringify({ messages: [append] }));
    expect(decodeWire(text)).toEqual({ messages: [append] });
  });

  it('encodes the bytes of a snapshot beside other messages', () => {
    const snapshot = { type: 'install_snapshot', from: 1, to: 2, term: 4, snapshot: { meta: { last_index: 3, last_term: 4 }, data: Buffer.from([7, 0, 7]) } };
    const decoded = decodeWire<{ messages: [typeof append, { snapshot: { data: Uint8Array } }] }>(encodeMessages([append, snapshot]));
    expect(decoded.messages[0]).toEqual(append);
    expect([...decoded.messages[1].snapshot.data]).toEqual([7, 0, 7]);
  });
});
