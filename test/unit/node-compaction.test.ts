/**
 * A node on disk under writes that never pause compacts as it goes. Its ready
 * loop awaits each fsync, and writers whose answers come back in one pass
 * propose again while it runs, so the run of passes never ends: compaction
 * must happen after every pass, not once the loop falls idle.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createNode } from '../../src/node/create-node';
import type { DdbNode } from '../../src/node/node';
import { parseConfig } from '../../utils/config';
import { createSilentLogger } from '../../utils/logger';
import { pollUntil } from '../support/poll';

const LOG_ENTRIES_MAX = 100;
const WRITERS = 32;
const WRITES_EACH = 100;

let dir: string;
let node: DdbNode | null = null;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-compaction-'));
});
afterEach(() => {
  node?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('keeps the log near log_entries_max while writes keep coming', async () => {
  const config = parseConfig({ nodes: [{ id: 1, url: 'http://127.0.0.1:1' }], log_entries_max: LOG_ENTRIES_MAX });
  const started = createNode({ config, self: config.nodes[0], data_dir: dir, logger: createSilentLogger(), cluster_secret: randomBytes(32) }).node;
  node = started;
  started.start();
  await pollUntil(() => started.status().role === 'master', { timeout_ms: 5000, interval_ms: 5, what: 'the single node to become master' });
  await started.write({ type: 'create_table', db_name: null, table_name: 'items', columns: ['v'] });

  let longest = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_unused, writer) => {
      for (let i = 0; i < WRITES_EACH; i += 1) {
        // Out of step with each other, so some proposals arrive while a pass awaits its fsync.
        for (let turn = 0; turn < writer % 4; turn += 1) await new Promise(setImmediate);
        await started.write({ type: 'insert', db_name: null, table_name: 'items', row_id: `w${writer}-${i}`, data: { v: i } });
        longest = Math.max(longest, started.status().log_entries);
      }
    }),
  );
  expect(started.status().applied_index).toBeGreaterThanOrEqual(WRITERS * WRITES_EACH);
  // Over the limit by what arrives while a snapshot is written (off the event
  // loop): a few passes of at most one entry per writer. A loop that compacted
  // only when idle would hold nearly every write.
  expect(longest).toBeLessThanOrEqual(10 * LOG_ENTRIES_MAX);
});
