/** SharedReadIndex: reads that begin while a read-index request is in flight share the next one, never the current one. */
import { SharedReadIndex } from '../../src/node/shared-read-index';
import type { ReadIndexAnswer } from '../../src/node/peer-transport';

const settle = () => new Promise((resolve) => setImmediate(resolve));

interface Asked {
  master_id: number;
  timeout_ms: number;
  answer: (result: ReadIndexAnswer) => void;
  fail: (error: Error) => void;
}

function recording() {
  const asked: Asked[] = [];
  const reads = new SharedReadIndex(
    (master_id, timeout_ms) => new Promise((resolve, reject) => asked.push({ master_id, timeout_ms, answer: resolve, fail: reject })),
    { now_ms: () => 1_000 },
  );
  return { reads, asked };
}

it('asks at once, then lets the reads that began meanwhile share the next request', async () => {
  const { reads, asked } = recording();
  const first = reads.readIndex(1, 3_000);
  expect(asked).toHaveLength(1);
  expect(asked[0]?.timeout_ms).toBe(2_000);
  // Begun after the first request left: its answer may predate them, so they wait for the next.
  const second = reads.readIndex(1, 3_000);
  const third = reads.readIndex(1, 4_000);
  expect(asked).toHaveLength(1);
  asked[0]?.answer({ ok: true, index: 7 });
  expect(await first).toEqual({ ok: true, index: 7 });
  await settle();
  expect(asked).toHaveLength(2);
  expect(asked[1]?.timeout_ms).toBe(3_000);
  asked[1]?.answer({ ok: true, index: 9 });
  expect(await Promise.all([second, third])).toEqual([
    { ok: true, index: 9 },
    { ok: true, index: 9 },
  ]);
});

it('fails every read of a failed request and goes on with the reads that came after', async () => {
  const { reads, asked } = recording();
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const first = reads.readIndex(1, 3_000);
  const later = reads.readIndex(1, 3_000);
  asked[0]?.fail(refused);
  await expect(first).rejects.toBe(refused);
  await settle();
  expect(asked).toHaveLength(2);
  asked[1]?.answer({ ok: false, error: { code: 'NOT_MASTER', message: 'not the master', details: {} } });
  expect(await later).toEqual({ ok: false, error: { code: 'NOT_MASTER', message: 'not the master', details: {} } });
});

it('keeps one request in flight per master', () => {
  const { reads, asked } = recording();
  void reads.readIndex(1, 3_000);
  void reads.readIndex(2, 3_000);
  void reads.readIndex(1, 3_000);
  expect(asked.map((request) => request.master_id)).toEqual([1, 2]);
});
