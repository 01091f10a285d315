/**
 * A short chaos run in `npm test`: 5 real nodes, every fault kind, about 30 s.
 * nftables is required for the partitions; `npm test` installs it first (scripts/ensure-test-tools.js).
 * A failure prints the seed, the commands that replay it and the fault schedule.
 */
import type { ChaosFlags } from './chaos-flags';
import { chaosSchedule, runChaos, type ChaosSummary } from './chaos-run';
import { FAULT_KINDS } from './fault-schedule';
import { Firewall } from './firewall';
import { formatReplay, npmReplayCommand } from './replay';

jest.setTimeout(240_000);

/** Why the run failed, or nothing. */
function problemsOf(summary: ChaosSummary): string[] {
  return [
    summary.lost_writes > 0 ? `${summary.lost_writes} acknowledged inserts lost` : '',
    summary.linearizability.violations.length > 0 ? `${summary.linearizability.violations.length} linearizability violations` : '',
    summary.set_check.valid ? '' : 'the set check failed (lost writes or nodes that diverged)',
    summary.linearizability.keys_checked === 0 ? 'no register was checked' : '',
    summary.acknowledged_inserts === 0 ? 'no insert was acknowledged' : '',
  ].filter((problem) => problem !== '');
}

it('loses no acknowledged write and stays linearizable under kills, pauses and partitions', async () => {
  expect(Firewall.available()).toBe(true);
  const time_variable = process.env.CHAOS_TIME_S === undefined ? '' : ` CHAOS_TIME_S=${process.env.CHAOS_TIME_S}`;
  const flags: ChaosFlags = {
    time_s: Number(process.env.CHAOS_TIME_S ?? 30),
    seed: Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000),
    nodes: 5,
    clients: 8,
    keys: 4,
    faults: [...FAULT_KINDS],
  };
  const commands = [`CHAOS_SEED=${flags.seed}${time_variable} npx jest test/chaos`, npmReplayCommand(flags)];
  const replay = formatReplay({ seed: flags.seed, commands, schedule: chaosSchedule(flags) }).join('\n');
  const lines: string[] = [];
  // A thrown Error, not an expect() diff: jest folds a long diff and would hide the replay lines.
  const fail = (why: string, report = '') => new Error([why, replay, 'log:', ...lines.map((line) => `  ${line}`), report].join('\n'));
  let summary: ChaosSummary;
  try {
    summary = await runChaos({ ...flags, log: (line) => lines.push(line) });
  } catch (error) {
    throw fail(`the run did not finish: ${(error as Error).stack}`);
  }
  const problems = problemsOf(summary);
  if (problems.length > 0) throw fail(problems.join('; '), summary.report);
});
