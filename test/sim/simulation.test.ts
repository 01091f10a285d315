/**
 * Deterministic simulation of the replication core. Every run derives from
 * one seed; a failure prints the seed and the command that replays it:
 *
 *   SEED=123 npx jest test/sim        replays seed 123 in every scenario
 *   SIM_SEEDS=5000 npx jest test/sim  runs more seeds (default below)
 *   SIM_FIRST_SEED=100000             starts the seed ranges elsewhere (to explore new seeds)
 */
import { Replica, type ReplicaConfig, type DurableState } from '../../src/replication/replica';
import type { RequestVote } from '../../src/replication/messages';
import { type FaultRunSummary, type OrderRunSummary, runFaultScenario, runOrderScenario } from './scenarios';

const DEFAULT_FAULT_SEEDS = 5000;
const DEFAULT_ORDER_SEEDS = 1500;
const TEST_TIMEOUT_MS = 300_000;

const replay_seed = process.env.SEED === undefined ? null : Number(process.env.SEED);
const seed_count = process.env.SIM_SEEDS === undefined ? null : Number(process.env.SIM_SEEDS);
const seed_offset = process.env.SIM_FIRST_SEED === undefined ? 0 : Number(process.env.SIM_FIRST_SEED);

function seeds(default_count: number, first_seed: number): number[] {
  if (replay_seed !== null) return [replay_seed];
  const count = seed_count ?? default_count;
  return Array.from({ length: count }, (_unused, position) => seed_offset + first_seed + position);
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
}

describe('simulation', () => {
  test(
    'random faults: safety after every step, then liveness once faults stop',
    () => {
      const started_ms = performance.now();
      const summaries: FaultRunSummary[] = [];
      for (const seed of seeds(DEFAULT_FAULT_SEEDS, 1)) summaries.push(runFaultScenario(seed));
      const recovery = summaries.map((summary) => summary.recovery_ticks);
      const total = (key: keyof FaultRunSummary['counts']) => summaries.reduce((sum, each) => sum + each.counts[key], 0);
      console.log(
        `fault scenario: ${summaries.length} seeds in ${Math.round(performance.now() - started_ms)} ms; ` +
          `${summaries.reduce((sum, each) => sum + each.ticks, 0)} ticks, ` +
          `${summaries.reduce((sum, each) => sum + each.masters_elected, 0)} masters elected, ` +
          `${summaries.reduce((sum, each) => sum + each.committed, 0)} entries committed, ` +
          `${summaries.reduce((sum, each) => sum + each.reads_confirmed, 0)} reads confirmed, ` +
          `${total('crashes')} crashes, ${total('compactions')} compactions, ${total('snapshots_installed')} snapshots installed, ` +
          `${total('entries_overwritten')} log suffixes overwritten; ` +
          `recovery ticks p50 ${percentile(recovery, 0.5)} p99 ${percentile(recovery, 0.99)} max ${Math.max(...recovery)}`,
      );
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'candidate order: killing the master promotes the lowest-id slave with an up-to-date log',
    () => {
      const started_ms = performance.now();
      const summaries: OrderRunSummary[] = [];
      for (const seed of seeds(DEFAULT_ORDER_SEEDS, 1_000_001)) summaries.push(runOrderScenario(seed));
      // Fail-over time where the first slave in order had a complete log (no cut link, no append lost in the kill).
      const clean = summaries.filter((summary) => summary.lagging === null && summary.elected === summary.first_in_order);
      const later = summaries.filter((summary) => summary.elected !== summary.first_in_order);
      const promote = clean.map((summary) => summary.promote_ticks);
      const writable = clean.map((summary) => summary.writable_ticks);
      const later_promote = later.map((summary) => summary.promote_ticks);
      console.log(
        `order scenario: ${summaries.length} seeds in ${Math.round(performance.now() - started_ms)} ms; ` +
          `${later.length} promoted a later slave because a lower one's log was behind ` +
          `(promote p50 ${percentile(later_promote, 0.5)} max ${Math.max(...later_promote, 0)} ticks).\n` +
          `fail-over at the default timing (heartbeat 10, timeout 100, stagger 30 ticks; 10 ms each), ${clean.length} clean kills: ` +
          `kill → promoted min ${Math.min(...promote)} p50 ${percentile(promote, 0.5)} p99 ${percentile(promote, 0.99)} max ${Math.max(...promote)} ticks; ` +
          `kill → first commit min ${Math.min(...writable)} p50 ${percentile(writable, 0.5)} p99 ${percentile(writable, 0.99)} max ${Math.max(...writable)} ticks`,
      );
    },
    TEST_TIMEOUT_MS,
  );
});

/** Grants every vote: two candidates can win the same term, and a stale log can win. */
class GrantsEveryVote<T> extends Replica<T> {
  protected override canGrantVote(_request: RequestVote): boolean {
    return true;
  }
}

describe('the simulator replays', () => {
  test('one seed gives the same run twice', () => {
    for (const seed of [7, 1234, 99_999]) {
      expect(runFaultScenario(seed)).toEqual(runFaultScenario(seed));
      expect(runOrderScenario(seed)).toEqual(runOrderScenario(seed));
    }
  });
});

describe('the simulator can fail', () => {
  test('a replica that grants every vote is caught', () => {
    const factory = (config: ReplicaConfig<string>, restored: DurableState<string>) => new GrantsEveryVote<string>(config, restored);
    const failures: string[] = [];
    for (let seed = 1; seed <= 300 && failures.length === 0; seed += 1) {
      try {
        runFaultScenario(seed, factory);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    expect(failures.length).toBe(1);
    expect(failures[0]).toMatch(/seed \d+/);
    expect(failures[0]).toMatch(/replay: SEED=\d+ npx jest test\/sim/);
    expect(failures[0]).toMatch(/election safety|two masters|leader completeness|state machine safety|log matching|committed index/);
  });
});
