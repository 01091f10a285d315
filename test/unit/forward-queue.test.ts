/** ForwardQueue: a slave's forwarded writes leave in batches, each write with its own answer. */
import { FORWARD_BATCHES_IN_FLIGHT_MAX, ForwardQueue } from '../../src/node/forward-queue';
import type { ForwardAnswer, ForwardedWrite } from '../../src/node/peer-transport';

const insert = (row_id: string): ForwardedWrite => ({ command: { type: 'insert', db_name: null, table_name: 't', row_id, data: { v: 1 } }, user: null });
const rowIds = (writes: ForwardedWrite[]) => writes.map((write) => (write.command as { row_id: string }).row_id);
const turn = () => new Promise((resolve) => setImmediate(resolve));

interface SentBatch {
  master_id: number;
  commands: ForwardedWrite[];
  timeout_ms: number;
  answer: (results: ForwardAnswer[]) => void;
  fail: (error: Error) => void;
}

function recordingQueue() {
  const sent: SentBatch[] = [];
  const queue = new ForwardQueue(
    (master_id, commands, timeout_ms) =>
      new Promise((resolve, reject) => sent.push({ master_id, commands, timeout_ms, answer: resolve, fail: reject })),
    { now_ms: () => 1_000, soon: (run) => setImmediate(run) },
  );
  return { queue, sent };
}

it('sends the writes of one turn as one batch and gives each write its own result', async () => {
  const { queue, sent } = recordingQueue();
  const answers = ['a', 'b', 'c'].map((row_id) => queue.forward(1, insert(row_id), 3_000));
  expect(sent).toHaveLength(0); // not before the turn ends
  await turn();
  expect(sent.map((batch) => rowIds(batch.commands))).toEqual([['a', 'b', 'c']]);
  expect(sent[0]?.timeout_ms).toBe(2_000);
  sent[0]?.answer([
    { ok: true, value: { row_id: 'a' } },
    { ok: false, error: { code: 'ROW_EXISTS', message: 'exists', details: {} } },
    { ok: true, value: { row_id: 'c' } },
  ]);
  expect(await Promise.all(answers)).toEqual([
    { ok: true, value: { row_id: 'a' } },
    { ok: false, error: { code: 'ROW_EXISTS', message: 'exists', details: {} } },
    { ok: true, value: { row_id: 'c' } },
  ]);
});

it('queues behind the batches in flight and sends what queued as the next batch', async () => {
  const { queue, sent } = recordingQueue();
  for (let i = 0; i < FORWARD_BATCHES_IN_FLIGHT_MAX; i += 1) {
    void queue.forward(1, insert(`first${i}`), 3_000);
    await turn();
  }
  expect(sent).toHaveLength(FORWARD_BATCHES_IN_FLIGHT_MAX);
  const later = [queue.forward(1, insert('x'), 3_000), queue.forward(1, insert('y'), 3_000)];
  await turn();
  await turn();
  expect(sent).toHaveLength(FORWARD_BATCHES_IN_FLIGHT_MAX);
  sent[0]?.answer([{ ok: true, value: 1 }]);
  await turn();
  expect(rowIds(sent[FORWARD_BATCHES_IN_FLIGHT_MAX]?.commands ?? [])).toEqual(['x', 'y']);
  sent[FORWARD_BATCHES_IN_FLIGHT_MAX]?.answer([
    { ok: true, value: 'x' },
    { ok: true, value: 'y' },
  ]);
  expect(await Promise.all(later)).toEqual([
    { ok: true, value: 'x' },
    { ok: true, value: 'y' },
  ]);
});

it('fails every write of a failed batch with its error, and of a batch answered with the wrong count', async () => {
  const { queue, sent } = recordingQueue();
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const first = [queue.forward(1, insert('a'), 3_000), queue.forward(1, insert('b'), 3_000)];
  await turn();
  sent[0]?.fail(refused);
  for (const write of first) await expect(write).rejects.toBe(refused);

  const second = [queue.forward(1, insert('c'), 3_000), queue.forward(1, insert('d'), 3_000)];
  await turn();
  sent[1]?.answer([{ ok: true, value: 1 }]);
  for (const write of second) await expect(write).rejects.toThrow('1 results for 2 writes');
});

it('keeps one queue per master', async () => {
  const { queue, sent } = recordingQueue();
  void queue.forward(1, insert('a'), 3_000);
  void queue.forward(2, insert('b'), 3_000);
  await turn();
  expect(sent.map((batch) => [batch.master_id, rowIds(batch.commands)])).toEqual([
    [1, ['a']],
    [2, ['b']],
  ]);
});

it('answers a write that waited past its deadline without sending it', async () => {
  let now = 1_000;
  const sent: ForwardedWrite[][] = [];
  const pendingBatches: ((results: ForwardAnswer[]) => void)[] = [];
  const queue = new ForwardQueue(
    (_master_id, commands) =>
      new Promise((resolve) => {
        sent.push(commands);
        pendingBatches.push(resolve);
      }),
    { now_ms: () => now, soon: (run) => setImmediate(run) },
  );
  for (let i = 0; i < FORWARD_BATCHES_IN_FLIGHT_MAX; i += 1) {
    void queue.forward(1, insert(`first${i}`), 3_000);
    await turn();
  }
  const late = queue.forward(1, insert('late'), 2_000);
  const onTime = queue.forward(1, insert('on-time'), 9_000);
  await turn();
  now = 2_500; // the master was slow: 'late' is past its deadline
  pendingBatches[0]?.([{ ok: true, value: 1 }]);
  await expect(late).rejects.toThrow('past its deadline');
  expect(rowIds(sent[FORWARD_BATCHES_IN_FLIGHT_MAX] ?? [])).toEqual(['on-time']);
  pendingBatches[FORWARD_BATCHES_IN_FLIGHT_MAX]?.([{ ok: true, value: 2 }]);
  expect(await onTime).toEqual({ ok: true, value: 2 });
});

it('keeps a batch within its bytes: large writes leave in batches of their own, one write always goes', async () => {
  const { queue, sent } = recordingQueue();
  const big = (row_id: string): ForwardedWrite => ({ command: { type: 'insert', db_name: null, table_name: 't', row_id, data: { v: 'x'.repeat(6 * 1024 * 1024) } }, user: null });
  const huge: ForwardedWrite = { command: { type: 'insert', db_name: null, table_name: 't', row_id: 'h', data: { v: 'x'.repeat(20 * 1024 * 1024) } }, user: null };
  for (const write of [big('a'), big('b'), big('c'), huge, insert('small')]) void queue.forward(1, write, 3_000);
  await turn();
  // 16 MiB a batch: two 6 MiB writes fit, a third does not; the 20 MiB one travels alone.
  expect(sent.map((batch) => rowIds(batch.commands))).toEqual([['a', 'b'], ['c'], ['h'], ['small']]);
});
