/**
 * The cost of checking peer input (src/replication/peer-validation.ts via
 * peer-inspector.ts) on the hottest path: one append of 64 inserts, as a
 * slave receives it, beside JSON.parse of the same frame for scale.
 *
 *   npm run bench:peer-validation    (or node dist/scripts/bench-peer-validation.js after a build)
 */
import { performance } from 'node:perf_hooks';
import { peerInspector } from '../src/replication/peer-inspector';

const inspector = peerInspector({ self_id: 1, member_ids: [1, 2, 3], body_limit_bytes: 1_048_576, entries_per_message_max: 512 });
const entries = Array.from({ length: 64 }, (_, offset) => ({
  index: 11 + offset,
  term: 5,
  data: {
    command: { type: 'insert', db_name: null, table_name: 'items', row_id: `row-${offset}`, data: { name: `name ${offset}`, qty: offset, price: 9.99, note: 'some text of moderate length' } },
    context: { timestamp_ms: 1_700_000_000_000, seed: 12345 },
  },
}));
const text = JSON.stringify({ messages: [{ type: 'append_entries', from: 2, to: 1, term: 5, prev_index: 10, prev_term: 4, entries, commit: 10, live_ids: [1, 3], read_context: 7 }] });
const frame: unknown = JSON.parse(text);

function microseconds(run: () => unknown, runs: number): number {
  for (let count = 0; count < runs / 10; count += 1) run();
  const started = performance.now();
  for (let count = 0; count < runs; count += 1) run();
  return ((performance.now() - started) * 1000) / runs;
}

for (let round = 1; round <= 5; round += 1) {
  const check = microseconds(() => inspector.messages(frame, 2), 20_000);
  const parse = microseconds(() => JSON.parse(text), 5_000);
  console.log(`round ${round}: validation ${check.toFixed(1)} µs per 64-entry append (${(check / 64).toFixed(2)} µs per entry); JSON.parse of the same ${text.length}-byte frame ${parse.toFixed(1)} µs`);
}
