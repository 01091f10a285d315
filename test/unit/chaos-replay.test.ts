/**
 * A chaos seed replays: each client's operations, and the nemesis's schedule,
 * are a function of the seed alone — not of how often the others drew (the
 * timing of real processes) nor of what the cluster answered.
 */
import { chooseOperation, type ClientOperation } from '../chaos/client-operations';
import { deriveChaosStreams } from '../chaos/random-streams';
import { Random } from '../support/random';

const NODE_IDS = [1, 2, 3, 4, 5];
const KEYS = ['k0', 'k1', 'k2', 'k3'];
const CLIENT_COUNT = 8;
const OPERATIONS_PER_CLIENT = 50;

/**
 * Every client's first operations when the clients take turns in an order drawn from
 * `timing` (a stand-in for which HTTP answer comes back first).
 */
function operationsPerClient(seed: number, timing: Random): ClientOperation[][] {
  const streams = deriveChaosStreams(seed, CLIENT_COUNT);
  const operations: ClientOperation[][] = streams.clients.map(() => []);
  const unfinished = () => operations.map((done, client) => (done.length < OPERATIONS_PER_CLIENT ? client : -1)).filter((client) => client >= 0);
  for (let waiting = unfinished(); waiting.length > 0; waiting = unfinished()) {
    const client = timing.pick(waiting);
    operations[client]?.push(chooseOperation(streams.clients[client] as Random, { node_ids: NODE_IDS, keys: KEYS }));
  }
  return operations;
}

describe('chaos client streams', () => {
  test('one seed gives every client the same operations however the clients interleave', () => {
    const first = operationsPerClient(42, new Random(1));
    expect(operationsPerClient(42, new Random(2))).toEqual(first);
    expect(operationsPerClient(42, new Random(3))).toEqual(first);
  });

  test('another seed, other operations; and the clients do not repeat each other', () => {
    const first = operationsPerClient(42, new Random(1));
    expect(operationsPerClient(43, new Random(1))).not.toEqual(first);
    expect(new Set(first.map((operations) => JSON.stringify(operations))).size).toBe(CLIENT_COUNT);
  });

  test('the nemesis stream does not depend on the number of clients', () => {
    expect(deriveChaosStreams(42, 8).nemesis.uint32()).toBe(deriveChaosStreams(42, 3).nemesis.uint32());
  });

  test('the operation mix covers every kind, each on a node and a key from the choices', () => {
    const random = new Random(5);
    const operations = Array.from({ length: 2000 }, () => chooseOperation(random, { node_ids: NODE_IDS, keys: KEYS }));
    expect(new Set(operations.map((operation) => operation.kind))).toEqual(new Set(['update', 'sql-update', 'strong-read', 'sql-strong-read', 'local-read', 'insert']));
    expect(operations.every((operation) => NODE_IDS.includes(operation.node_id) && KEYS.includes(operation.key))).toBe(true);
  });
});
