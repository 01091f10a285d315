/**
 * Forged peer traffic against a real 3-node cluster, on every node's port:
 * plain HTTP to /internal/*, upgrades without the secret or with ids that
 * are not the prover's own, and frames that are garbage, oversized, altered,
 * replayed, injected or from another connection. Every attempt is refused
 * (401, or the connection closed before anything is decoded), and every
 * node keeps running with its term, applied index, state hash and data as
 * they were. The attacks of issue 11 that needed no secret are here too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TestCluster, type StatusBody } from '../support/cluster';
import { pollUntil } from '../support/poll';
import { FrameType, closedWithin, frame, upgrade } from '../support/peer-attacker';

jest.setTimeout(120_000);

let cluster: TestCluster;
let secret: Buffer;
let master: number;
let before: Map<number, StatusBody>;

const CLOSE_WAIT_MS = 3000;

beforeAll(async () => {
  cluster = await TestCluster.create({ size: 3 });
  await cluster.startAll();
  master = await cluster.waitForMaster();
  secret = fs.readFileSync(path.join(cluster.dir, 'cluster.key'));
  expect((await cluster.client.post(`${cluster.url(master)}/create_table`, { table_name: 'items', columns: ['v'] })).status).toBe(201);
  expect((await cluster.client.post(`${cluster.url(master)}/insert`, { table_name: 'items', row_id: 'kept', data: { v: 1 } })).status).toBe(201);
  await cluster.waitForConvergence(cluster.ids());
  before = await snapshot();
});

afterAll(async () => {
  await cluster?.destroy();
});

async function snapshot(): Promise<Map<number, StatusBody>> {
  const statuses = await cluster.waitForConvergence(cluster.ids());
  return new Map(statuses.map((status) => [status.id, status]));
}

/** Every node answers, with the same term, applied index and state hash as before, and the same rows. */
async function expectUnchanged(): Promise<void> {
  const now = await snapshot();
  for (const [id, status] of before) {
    const current = now.get(id) as StatusBody;
    expect({ id, term: current.term, applied_index: current.applied_index, state_hash: current.state_hash }).toEqual({
      id,
      term: status.term,
      applied_index: status.applied_index,
      state_hash: status.state_hash,
    });
    const rows = await cluster.client.get(`${cluster.url(id)}/select?table=items`);
    expect(rows.data.rows).toEqual([{ row_id: 'kept', v: 1 }]);
  }
}

const forgedBodies: [string, unknown][] = [
  ['/internal/propose', { commands: [{ type: 'insert', db_name: null, table_name: 'items', row_id: 'forged', data: { v: 2 } }] }],
  ['/internal/propose', { writes: [{ command: { type: 'bogus' }, user: null }] }],
  ['/internal/propose', { writes: [{ command: { type: 'insert', db_name: null, table_name: 'items', row_id: 'big', data: { v: 'x'.repeat(10 * 1024 * 1024) } }, user: null }] }],
  ['/internal/raft', { messages: [{ type: 'append_entries', from: 2, to: 1, term: Number.MAX_SAFE_INTEGER, prev_index: 0, prev_term: 0, entries: [], commit: 0, live_ids: [], read_context: 0 }] }],
  ['/internal/raft', { messages: [{ type: 'install_snapshot', from: 2, to: 1, term: 99, snapshot: { meta: { last_index: 99, last_term: 99 }, data: { $bytes: 'Z2FyYmFnZQ==' } }, live_ids: [], read_context: 0 }] }],
  ['/internal/raft', { messages: [{ type: 'append_response', from: 2, to: 1, term: 1, success: true, index: 1000, hint_index: 0, hint_term: 0, read_context: 0 }] }],
  ['/internal/read_index', {}],
];

it('plain HTTP under /internal/ is refused with 401 on every node, and changes nothing', async () => {
  for (const id of cluster.ids()) {
    for (const [route, body] of forgedBodies) {
      const answer = await cluster.client.post(`${cluster.url(id)}${route}`, body, { maxBodyLength: Infinity, maxContentLength: Infinity }).then(
        (response) => ({ status: response.status, code: response.data?.error?.code as string | undefined }),
        // The 10 MB body: the node answers 401 at once and closes, before the client has finished writing.
        (error: { code?: string }) => ({ status: 401, code: error.code === 'EPIPE' || error.code === 'ECONNRESET' ? 'UNAUTHENTICATED' : error.code }),
      );
      expect({ id, route, ...answer }).toEqual({ id, route, status: 401, code: 'UNAUTHENTICATED' });
    }
  }
  await expectUnchanged();
});

it('an upgrade that does not prove the secret, or claims ids that are not a member and this node, is refused with 401', async () => {
  const wrong = Buffer.alloc(32, 7);
  for (const id of cluster.ids()) {
    const other = cluster.ids().find((each) => each !== id) as number;
    const attempts = [
      { what: 'a wrong secret', from: other, to: id, secret: wrong },
      { what: 'no proof', from: other, to: id, secret, proof: '' },
      { what: 'a non-member id', from: 99, to: id, secret },
      { what: 'the node’s own id', from: id, to: id, secret },
      { what: 'another node as target', from: other, to: other, secret },
      { what: 'an id that is not a number', from: 'one', to: id, secret },
      { what: 'another path', from: other, to: id, secret, path: '/internal/raft' },
    ];
    for (const attempt of attempts) {
      const result = await upgrade({ url: cluster.url(id), ...attempt });
      expect({ id, what: attempt.what, status: result.status }).toEqual({ id, what: attempt.what, status: 401 });
      result.socket.destroy();
    }
  }
  await expectUnchanged();
});

it('frames that are garbage, oversized, before AUTH, altered, replayed or from another connection close the connection', async () => {
  const [id, other] = [master, cluster.ids().find((each) => each !== master) as number];
  const open = () => upgrade({ url: cluster.url(id), from: other, to: id, secret });
  const cases: [string, (result: Awaited<ReturnType<typeof open>>) => Buffer][] = [
    ['garbage bytes', () => Buffer.from('this is not a frame at all, not even close')],
    ['an oversized length before AUTH', () => Buffer.from([0xff, 0xff, 0xff, 0xff, FrameType.MESSAGES])],
    ['a frame before AUTH', (result) => frame(result.writer!, FrameType.MESSAGES, { messages: [] })],
    [
      'an altered frame',
      (result) => {
        const bytes = frame(result.writer!, FrameType.AUTH, '');
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
        return bytes;
      },
    ],
    [
      'a replayed frame',
      (result) => {
        const auth = frame(result.writer!, FrameType.AUTH, '');
        return Buffer.concat([auth, auth]);
      },
    ],
    [
      'messages from another node than the one proven',
      (result) => {
        const claimed = cluster.ids().find((each) => each !== id && each !== other) as number;
        const heartbeat = { type: 'append_entries', from: claimed, to: id, term: 1000, prev_index: 0, prev_term: 0, entries: [], commit: 0, live_ids: [], read_context: 0 };
        return Buffer.concat([frame(result.writer!, FrameType.AUTH, ''), frame(result.writer!, FrameType.MESSAGES, { messages: [heartbeat] })]);
      },
    ],
  ];
  for (const [what, bytes] of cases) {
    const result = await open();
    expect({ what, status: result.status }).toEqual({ what, status: 101 });
    result.socket.write(bytes(result));
    expect({ what, closed: await closedWithin(result.socket, CLOSE_WAIT_MS) }).toEqual({ what, closed: true });
  }

  // A frame taken from one connection is worth nothing on another: its keys differ.
  const first = await open();
  const captured = frame(first.writer!, FrameType.AUTH, '');
  first.socket.destroy();
  const second = await open();
  second.socket.write(captured);
  expect(await closedWithin(second.socket, CLOSE_WAIT_MS)).toBe(true);

  // A replayed upgrade request passes its proof, but its frames are tagged with keys the replayer cannot make.
  const replayed = await upgrade({ url: cluster.url(id), from: other, to: id, secret, client_nonce: first.client_nonce });
  expect(replayed.status).toBe(101);
  replayed.socket.write(captured);
  expect(await closedWithin(replayed.socket, CLOSE_WAIT_MS)).toBe(true);

  // A truncated frame is simply waited for; the node goes on (the keep-alive check closes a silent connection).
  const truncated = await open();
  truncated.socket.write(frame(truncated.writer!, FrameType.AUTH, '').subarray(0, 7));
  truncated.socket.destroy();
  await expectUnchanged();
});

it('after all of it the cluster still works', async () => {
  const response = await cluster.client.post(`${cluster.url(master)}/insert`, { table_name: 'items', row_id: 'after', data: { v: 3 } });
  expect(response.status).toBe(201);
  await pollUntil(async () => (await cluster.client.get(`${cluster.url(master)}/select?table=items`)).data.count === 2, { timeout_ms: 10_000, what: 'the new row' });
});
