/**
 * The node-level simulation: real ddb nodes (the node shell, the replica,
 * the engine over SQLite) in simulated time, on simulated disks and a
 * simulated network. Every run derives from one seed; a failure prints the
 * seed and the command that replays it:
 *
 *   SEED=123 npx jest test/sim/node-simulation        replays seed 123
 *   NODE_SIM_SEEDS=2000 npx jest test/sim/node-simulation   runs more seeds
 */
import { ForwardQueue } from '../../src/node/forward-queue';
import { ReadPath } from '../../src/node/read-path';
import { runDiskLossScenario, runDivergenceScenario, runNodeFaultScenario, type NodeRunSummary } from './node/node-scenarios';

const DEFAULT_SEEDS = 300;
const TEST_TIMEOUT_MS = 300_000;

const replay_seed = process.env.SEED === undefined ? null : Number(process.env.SEED);
const seed_count = Number(process.env.NODE_SIM_SEEDS ?? DEFAULT_SEEDS);
const seed_offset = Number(process.env.SIM_FIRST_SEED ?? 0);

function seeds(first_seed: number): number[] {
  if (replay_seed !== null) return [replay_seed];
  return Array.from({ length: seed_count }, (_unused, position) => seed_offset + first_seed + position);
}

test(
  'real nodes under random faults: safety after every step, then every acknowledged write on every node',
  async () => {
    const started_ms = performance.now();
    const summaries: NodeRunSummary[] = [];
    for (const seed of seeds(1)) summaries.push(await runNodeFaultScenario(seed));
    const total = (pick: (summary: NodeRunSummary) => number) => summaries.reduce((sum, summary) => sum + pick(summary), 0);
    const elapsed_ms = performance.now() - started_ms;
    console.log(
      `node scenario: ${summaries.length} seeds in ${Math.round(elapsed_ms)} ms (${(summaries.length / (elapsed_ms / 1000)).toFixed(1)} seeds/s); ` +
        `${Math.round(total((summary) => summary.simulated_ms) / 1000)} s simulated, ${total((summary) => summary.events)} events, ` +
        `${total((summary) => summary.masters_elected)} masters elected, ${total((summary) => summary.committed)} entries committed, ` +
        `${total((summary) => summary.acknowledged_writes)} writes acknowledged (${total((summary) => summary.forwarded_ok)} forwarded by a slave), ` +
        `${total((summary) => summary.strong_reads)} strong reads served, ${total((summary) => summary.counts.crashes)} crashes ` +
        `(${total((summary) => summary.counts.crashes_in_sync)} in an fsync), ${total((summary) => summary.counts.restarts)} restarts`,
    );
    expect(summaries).toHaveLength(replay_seed === null ? seed_count : 1);
    expect(total((summary) => summary.acknowledged_writes)).toBeGreaterThan(0);
  },
  TEST_TIMEOUT_MS,
);

test('one seed gives the same run twice', async () => {
  for (const seed of [7, 1234]) expect(await runNodeFaultScenario(seed)).toEqual(await runNodeFaultScenario(seed));
}, TEST_TIMEOUT_MS);

/**
 * Mutations of the node shell that the checker must catch: code the
 * replica-level simulator never runs (the write path, the shared read
 * index). Each is patched in for the test only, then put back.
 */
describe('the node-level simulator can fail', () => {
  async function firstFailure(seed_max: number): Promise<string | null> {
    for (let seed = 1; seed <= seed_max; seed += 1) {
      try {
        await runNodeFaultScenario(seed);
      } catch (error) {
        return (error as Error).message;
      }
    }
    return null;
  }

  function patch<T extends object, K extends keyof T>(target: T, key: K, replacement: T[K]): () => void {
    const original = target[key];
    target[key] = replacement;
    return () => {
      target[key] = original;
    };
  }

  test('a slave that retries a forwarded write after any failure applies it twice', async () => {
    const queue = ForwardQueue.prototype as unknown as { forward: ForwardQueue['forward'] };
    const original = queue.forward;
    const restore = patch(queue, 'forward', function (this: ForwardQueue, ...args: Parameters<ForwardQueue['forward']>) {
      // Every failure is taken for a refused connection: safe to retry, which it is not when the answer was lost.
      return original.apply(this, args).catch((error: unknown) => {
        throw Object.assign(error instanceof Error ? error : new Error(String(error)), { code: 'ECONNREFUSED' });
      });
    });
    try {
      const failure = await firstFailure(200);
      expect(failure).toMatch(/exactly once|durability|divergence/);
      expect(failure).toMatch(/replay: SEED=\d+ npx jest test\/sim\/node-simulation/);
    } finally {
      restore();
    }
  }, TEST_TIMEOUT_MS);

  test('a slave that serves a strong read without a read index serves stale data', async () => {
    const reads = ReadPath.prototype as unknown as { readBarrier: ReadPath['readBarrier'] };
    const original = reads.readBarrier;
    const restore = patch(reads, 'readBarrier', function (this: ReadPath, consistency: 'local' | 'strong') {
      const master = (this as unknown as { parts: { masters: { current(): number | null }; id: number } }).parts;
      return master.masters.current() === master.id ? original.call(this, consistency) : Promise.resolve();
    });
    try {
      expect(await firstFailure(200)).toMatch(/linearizability/);
    } finally {
      restore();
    }
  }, TEST_TIMEOUT_MS);
});

test('a slave that lost its disk catches up and holds every acknowledged write', async () => {
  const caught_up: number[] = [];
  for (const seed of seeds(500_001).slice(0, Math.max(1, Math.floor(seed_count / 3)))) caught_up.push((await runDiskLossScenario(seed)).caught_up_ms);
  caught_up.sort((left, right) => left - right);
  console.log(`disk loss: ${caught_up.length} seeds; caught up within p50 ${caught_up[Math.floor(caught_up.length / 2)]} ms, max ${caught_up[caught_up.length - 1]} ms of simulated time after the writes stopped`);
  expect(caught_up.length).toBeGreaterThan(0);
}, TEST_TIMEOUT_MS);

test('a slave whose data was changed behind the log finds out and repairs itself from the master', async () => {
  const repaired: number[] = [];
  for (const seed of seeds(700_001).slice(0, Math.max(1, Math.floor(seed_count / 3)))) repaired.push((await runDivergenceScenario(seed)).repaired_ms);
  repaired.sort((left, right) => left - right);
  console.log(`divergence: ${repaired.length} seeds; repaired within p50 ${repaired[Math.floor(repaired.length / 2)]} ms, max ${repaired[repaired.length - 1]} ms of simulated time after the change`);
  expect(repaired.length).toBeGreaterThan(0);
}, TEST_TIMEOUT_MS);
