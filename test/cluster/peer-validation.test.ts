/**
 * A misbehaving member: the peer attacker holds the REAL cluster secret and
 * speaks for a real member on an authenticated connection, against a real
 * 3-node cluster. Each attack of issue 11 that a member could make is
 * refused by the validation of peer input (src/replication/peer-validation.ts,
 * peer-inspector.ts) or by the snapshot's trial load (node.ts): a request is
 * answered with an error, a bad messages frame closes the connection, and
 * every node keeps running with its term, applied index, state hash and
 * rows unchanged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TestCluster, type StatusBody } from '../support/cluster';
import { pollUntil } from '../support/poll';
import { FrameType, closedWithin, frame, nextFrame, upgrade } from '../support/peer-attacker';
import { snapshotChecksum } from '../../src/replication/peer-validation';
import { beginHeader } from '../../src/replication/snapshot-stream';
import type { InstallSnapshot } from '../../src/replication/messages';
import { peerFrameBytesMax } from '../../src/node/create-node';
import { CONFIG_DEFAULTS } from '../../utils/config';

jest.setTimeout(120_000);

let cluster: TestCluster;
let secret: Buffer;
let master: number;
let slaves: number[];
let before: Map<number, StatusBody>;

const CLOSE_WAIT_MS = 3000;
/** A deadline, not a measure: a 10 MB frame on a loaded 2-core machine can take seconds. */
const ANSWER_WAIT_MS = 30_000;

beforeAll(async () => {
  cluster = await TestCluster.create({ size: 3 });
  await cluster.startAll();
  master = await cluster.waitForMaster();
  slaves = cluster.ids().filter((id) => id !== master);
  secret = fs.readFileSync(path.join(cluster.dir, 'cluster.key'));
  expect((await cluster.client.post(`${cluster.url(master)}/create_table`, { table_name: 'items', columns: ['v'] })).status).toBe(201);
  expect((await cluster.client.post(`${cluster.url(master)}/insert`, { table_name: 'items', row_id: 'kept', data: { v: 1 } })).status).toBe(201);
  before = await statuses();
});

afterAll(async () => {
  await cluster?.destroy();
});

async function statuses(): Promise<Map<number, StatusBody>> {
  const all = await cluster.waitForConvergence(cluster.ids());
  return new Map(all.map((status) => [status.id, status]));
}

/** Every node process runs and answers /status with the same term, applied index and state hash as before, and the same rows. */
async function expectUnchanged(): Promise<void> {
  for (const id of cluster.ids()) expect({ id, exit: cluster.processes.get(id)?.exitCode ?? null }).toEqual({ id, exit: null });
  const now = await statuses();
  for (const [id, status] of before) {
    const current = now.get(id) as StatusBody;
    const seen = { id, term: current.term, applied_index: current.applied_index, state_hash: current.state_hash };
    expect(seen).toEqual({ id, term: status.term, applied_index: status.applied_index, state_hash: status.state_hash });
    const rows = await cluster.client.get(`${cluster.url(id)}/select?table=items`);
    expect(rows.data.rows).toEqual([{ row_id: 'kept', v: 1 }]);
  }
}

/** An authenticated connection to `to`, speaking for member `from`, AUTH sent. */
async function member(from: number, to: number) {
  const result = await upgrade({ url: cluster.url(to), from, to, secret });
  expect(result.status).toBe(101);
  result.socket.write(frame(result.writer!, FrameType.AUTH, ''));
  return result;
}

/** Sends forwarded writes to the master as a slave would; returns the master's answer ({id, result} or {id, error}). */
async function forward(writes: unknown): Promise<{ id: number; result?: unknown; error?: { code: string; message: string } }> {
  const connection = await member(slaves[0] as number, master);
  try {
    connection.socket.write(frame(connection.writer!, FrameType.REQUEST, { id: 1, kind: 'propose', writes }));
    const answer = await nextFrame(connection, FrameType.RESPONSE, ANSWER_WAIT_MS);
    expect(answer).not.toBeNull();
    return JSON.parse(answer!.body.toString());
  } finally {
    connection.socket.destroy();
  }
}

/** Sends one messages frame from member `from` to `to`; returns whether the node closed the connection (it refused the frame). */
async function sendMessages(from: number, to: number, messages: unknown[]): Promise<boolean> {
  const connection = await member(from, to);
  try {
    connection.socket.write(frame(connection.writer!, FrameType.MESSAGES, JSON.stringify({ messages })));
    return await closedWhileAlive(connection, CLOSE_WAIT_MS);
  } finally {
    connection.socket.destroy();
  }
}

/** Sends an install_snapshot as a node does, a SNAPSHOT_BEGIN and the image in one SNAPSHOT_PART; returns whether the node closed the connection. */
async function sendSnapshot(from: number, to: number, message: InstallSnapshot): Promise<boolean> {
  const connection = await member(from, to);
  try {
    connection.socket.write(frame(connection.writer!, FrameType.SNAPSHOT_BEGIN, beginHeader(message)));
    connection.socket.write(frame(connection.writer!, FrameType.SNAPSHOT_PART, Buffer.from(message.snapshot.data)));
    return await closedWhileAlive(connection, CLOSE_WAIT_MS);
  } finally {
    connection.socket.destroy();
  }
}

/**
 * Whether the node closes the connection within `wait_ms` while we keep it
 * alive with PINGs: an idle inbound connection is closed after three
 * keep-alive periods, which must not pass for a refusal.
 */
async function closedWhileAlive(connection: Awaited<ReturnType<typeof member>>, wait_ms: number): Promise<boolean> {
  const pinger = setInterval(() => {
    if (!connection.socket.destroyed) connection.socket.write(frame(connection.writer!, FrameType.PING, ''));
  }, 100);
  try {
    return await closedWithin(connection.socket, wait_ms);
  } finally {
    clearInterval(pinger);
  }
}

function term(): number {
  return (before.get(master) as StatusBody).term;
}

it('a forwarded write of an unknown command type is answered with an error and never reaches the log', async () => {
  const answer = await forward([{ command: { type: 'bogus' }, user: null }]);
  expect(answer.error?.code).toBe('INVALID_REQUEST');
  expect(answer.error?.message).toMatch(/unknown command type/);
  // The same, in the shape of the old /internal/propose body.
  const old = await forward({ commands: [{ type: 'bogus' }] });
  expect(old.error?.code).toBe('INVALID_REQUEST');
  await expectUnchanged();
});

it('a forwarded 10 MB row is refused like the same /insert (over body_limit_bytes)', async () => {
  const big = { type: 'insert', db_name: null, table_name: 'items', row_id: 'big', data: { v: 'x'.repeat(10 * 1024 * 1024) } };
  const answer = await forward([{ command: big, user: null }]);
  expect(answer.error?.code).toBe('INVALID_REQUEST');
  expect(answer.error?.message).toMatch(/over the body limit/);
  const direct = await cluster.client.post(`${cluster.url(master)}/insert`, { table_name: 'items', row_id: 'big', data: big.data }, { maxBodyLength: Infinity }).catch((error: { response?: { status: number }; code?: string }) => error.response ?? { status: error.code });
  expect([413, 'EPIPE', 'ECONNRESET']).toContain(direct.status);
  await expectUnchanged();
});

it('a frame as large as the old limit (512 MiB, past the longest string V8 makes) is refused at its header', async () => {
  expect(peerFrameBytesMax(CONFIG_DEFAULTS)).toBeLessThan(512 * 1024 * 1024);
  const connection = await member(slaves[0] as number, master);
  const header = Buffer.alloc(5);
  header.writeUInt32BE(512 * 1024 * 1024, 0);
  header.writeUInt8(FrameType.REQUEST, 4);
  connection.socket.write(header);
  connection.socket.write(Buffer.alloc(64 * 1024, 0x61));
  // No PINGs here: they would only be read as more of the announced body.
  expect(await closedWithin(connection.socket, 1000)).toBe(true);
  connection.socket.destroy();
  await expectUnchanged();
});

it('an append of a committed-looking bogus command, from a member claiming a higher term, is refused whole', async () => {
  const [from, to] = slaves as [number, number];
  const status = before.get(to) as StatusBody;
  const bogus = {
    type: 'append_entries', from, to, term: term() + 1, prev_index: status.applied_index, prev_term: term(),
    entries: [{ index: status.applied_index + 1, term: term() + 1, data: { command: { type: 'bogus' }, context: { timestamp_ms: 1, seed: 1 } } }],
    commit: status.applied_index + 1, live_ids: [], read_context: 0,
  };
  expect(await sendMessages(from, to, [bogus])).toBe(true);
  expect(await sendMessages(from, master, [{ ...bogus, to: master }])).toBe(true);
  await expectUnchanged();
});

it('a forged term of 2^53-1 (or anything past 2^48) is refused, never persisted', async () => {
  for (const forged of [Number.MAX_SAFE_INTEGER, 2 ** 48 + 1]) {
    for (const to of cluster.ids()) {
      const from = cluster.ids().find((id) => id !== to) as number;
      const heartbeat = { type: 'append_entries', from, to, term: forged, prev_index: 0, prev_term: 0, entries: [], commit: 0, live_ids: [], read_context: 0 };
      const vote = { type: 'request_vote', from, to, term: forged, pre_vote: false, last_index: 1_000_000, last_term: forged - 1 };
      expect({ to, forged, closed: await sendMessages(from, to, [heartbeat]) }).toEqual({ to, forged, closed: true });
      expect({ to, forged, closed: await sendMessages(from, to, [vote]) }).toEqual({ to, forged, closed: true });
    }
  }
  await expectUnchanged();
});

it('an install_snapshot whose checksum does not match its bytes is refused', async () => {
  const [from, to] = slaves as [number, number];
  const data = new Uint8Array(Buffer.from('garbage, not a snapshot image'));
  const message: InstallSnapshot = {
    type: 'install_snapshot', from, to, term: term() + 1, snapshot: { meta: { last_index: 1000, last_term: term() + 1 }, data },
    checksum: snapshotChecksum(new Uint8Array(Buffer.from('other bytes'))), live_ids: [], read_context: 0,
  };
  expect(await sendSnapshot(from, to, message)).toBe(true);
  const without = { ...message, checksum: undefined };
  expect(await sendSnapshot(from, to, without)).toBe(true);
  // Nor may a snapshot come inside a messages frame, where its image can only be something other than bytes.
  expect(await sendMessages(from, to, [{ ...message, checksum: snapshotChecksum(data) }])).toBe(true);
  await expectUnchanged();
});

it('an install_snapshot of garbage bytes with the right checksum is loaded on trial, fails, and leaves the node as it was', async () => {
  const [from, to] = slaves as [number, number];
  const images = [
    Buffer.from('garbage, not a snapshot image'),
    // A header that parses, then bytes that are not SQLite images.
    (() => {
      const header = Buffer.from(JSON.stringify({ applied_index: 1000, state_hash: '0'.repeat(64) }));
      const length = Buffer.alloc(4);
      length.writeUInt32BE(header.length);
      return Buffer.concat([length, header, Buffer.from('not a database at all')]);
    })(),
  ];
  for (const image of images) {
    const data = new Uint8Array(image);
    const message: InstallSnapshot = {
      type: 'install_snapshot', from, to, term: term() + 1, snapshot: { meta: { last_index: 1000, last_term: term() + 1 }, data },
      checksum: snapshotChecksum(data), live_ids: [], read_context: 0,
    };
    // It passes the channel's checks (the checksum is right), so the connection stays open; the node drops it.
    expect(await sendSnapshot(from, to, message)).toBe(false);
  }
  await pollUntil(async () => fs.readFileSync(cluster.logFile(to), 'utf8').includes('refused a snapshot from the master'), {
    timeout_ms: 5000,
    what: 'the refusal in the log',
  });
  await expectUnchanged();
});

it('after all of it the cluster still works, and every node restarts fine', async () => {
  const response = await cluster.client.post(`${cluster.url(master)}/insert`, { table_name: 'items', row_id: 'after', data: { v: 3 } });
  expect(response.status).toBe(201);
  await pollUntil(async () => {
    for (const id of cluster.ids()) if ((await cluster.client.get(`${cluster.url(id)}/select?table=items`)).data.count !== 2) return false;
    return true;
  }, { timeout_ms: 10_000, what: 'the new row on every node' });
  const slave = slaves[1] as number;
  await cluster.signal(slave, 'SIGKILL');
  cluster.start(slave);
  await pollUntil(async () => (await cluster.status(slave))?.applied_index === (await cluster.status(master))?.applied_index, { timeout_ms: 20_000, what: 'the restarted slave catching up' });
  expect((await cluster.client.get(`${cluster.url(slave)}/select?table=items`)).data.count).toBe(2);
});
