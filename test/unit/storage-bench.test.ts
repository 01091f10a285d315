/**
 * Measures durable saves per second (fsync on) for batches of 1 and of 50 small
 * entries. Skipped unless STORAGE_BENCH=1; it prints figures and asserts nothing
 * about time (timing belongs in notes, not assertions):
 *
 *   STORAGE_BENCH=1 npx jest test/unit/storage-bench --verbose=false
 *
 * STORAGE_BENCH_DIR picks the file system to measure (default: the OS temp dir).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Entry } from '../../src/replication/messages';
import { Storage } from '../../src/replication/storage';

const benchmark = process.env.STORAGE_BENCH === '1' ? test : test.skip;
const RUN_MS = 3000;
const SAVES_MAX = 1_000_000;

interface Figures {
  batch_entries: number;
  saves: number;
  saves_per_second: number;
  entries_per_second: number;
  mean_save_ms: number;
}

function measure(dir: string, batchEntries: number): Figures {
  const storage = Storage.open<{ sql: string }>({ dir, fsync: true });
  storage.save({ hard_state: { term: 1, vote: 1, commit: 0 }, entries: [] });
  let next = 1;
  let saves = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(RUN_MS) * 1_000_000n;
  while (process.hrtime.bigint() < deadline && saves < SAVES_MAX) {
    const batch: Entry<{ sql: string }>[] = [];
    for (let count = 0; count < batchEntries; count += 1, next += 1) {
      batch.push({ index: next, term: 1, data: { sql: `INSERT INTO t VALUES (${next}, 'row ${next}')` } });
    }
    storage.save({ hard_state: null, entries: batch });
    saves += 1;
  }
  const elapsed_ms = Number(process.hrtime.bigint() - start) / 1e6;
  storage.close();
  const saves_per_second = Math.round((saves * 1000) / elapsed_ms);
  return { batch_entries: batchEntries, saves, saves_per_second, entries_per_second: saves_per_second * batchEntries, mean_save_ms: elapsed_ms / saves };
}

benchmark(
  'durable saves per second, batches of 1 and 50',
  () => {
    const root = process.env.STORAGE_BENCH_DIR ?? os.tmpdir();
    const results: Figures[] = [];
    for (const batchEntries of [1, 50]) {
      const dir = fs.mkdtempSync(path.join(root, 'ddb-storage-bench-'));
      try {
        results.push(measure(dir, batchEntries));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    console.log(`storage bench in ${root}\n${JSON.stringify(results, null, 2)}`);
    expect(results).toHaveLength(2);
  },
  60_000,
);
