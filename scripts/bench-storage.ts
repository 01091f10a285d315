/**
 * npm run bench:storage — durable saves per second (fsync on) of the log
 * storage alone, for batches of 1 and of 50 small entries: what one fsync per
 * batch costs on this file system, without HTTP or replication on top. It
 * prints figures and judges nothing: timing belongs in notes, not in tests.
 * `--dir=<path>` picks the file system to measure (default: the OS temp dir);
 * BENCH_DURATION_S sets the seconds per batch size (default 3).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Entry } from '../src/replication/messages';
import { Storage } from '../src/replication/storage';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 3);
/** Bounds a run on a file system that fsyncs faster than it can be timed. */
const SAVES_MAX = 1_000_000;
const BATCH_ENTRIES = [1, 50];

interface Figures {
  batch_entries: number;
  saves: number;
  saves_per_s: number;
  entries_per_s: number;
  save_mean_ms: number;
}

function measure(dir: string, batch_entries: number): Figures {
  const storage = Storage.open<{ sql: string }>({ dir, fsync: true });
  storage.save({ hard_state: { term: 1, vote: 1, commit: 0 }, entries: [] });
  let next = 1;
  let saves = 0;
  const started_ns = process.hrtime.bigint();
  const deadline_ns = started_ns + BigInt(Math.round(DURATION_S * 1000)) * 1_000_000n;
  while (process.hrtime.bigint() < deadline_ns && saves < SAVES_MAX) {
    const batch: Entry<{ sql: string }>[] = [];
    for (let count = 0; count < batch_entries; count += 1, next += 1) {
      batch.push({ index: next, term: 1, data: { sql: `INSERT INTO t VALUES (${next}, 'row ${next}')` } });
    }
    storage.save({ hard_state: null, entries: batch });
    saves += 1;
  }
  const elapsed_ms = Number(process.hrtime.bigint() - started_ns) / 1e6;
  storage.close();
  const saves_per_s = Math.round((saves * 1000) / elapsed_ms);
  return { batch_entries, saves, saves_per_s, entries_per_s: saves_per_s * batch_entries, save_mean_ms: elapsed_ms / saves };
}

function rootDir(): string {
  const option = process.argv.find((argument) => argument.startsWith('--dir='));
  return option === undefined ? os.tmpdir() : option.slice('--dir='.length);
}

function main(): void {
  const root = rootDir();
  process.stdout.write(`ddb bench:storage — fsync on, ${DURATION_S} s per batch size, in ${root}\n`);
  for (const batch_entries of BATCH_ENTRIES) {
    const dir = fs.mkdtempSync(path.join(root, 'ddb-bench-storage-'));
    try {
      const figures = measure(dir, batch_entries);
      process.stdout.write(
        `batches of ${String(batch_entries).padStart(2)} entries: ${figures.saves_per_s} saves/s, ` +
          `${figures.entries_per_s} entries/s, mean save ${figures.save_mean_ms.toFixed(3)} ms (${figures.saves} saves)\n`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

main();
