/** Peer messages survive the wire, snapshot bytes included (Buffer and plain Uint8Array alike). */
import { decodeWire, encodeWire } from '../../src/replication/wire';

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
