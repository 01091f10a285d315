/**
 * npm run chaos -- [--time S] [--seed N] [--nodes N] [--clients N] [--keys N] [--faults kill,pause,partition,isolate-master,asymmetric]
 * Prints the fault schedule first. Exits 1 when the run found a lost write, a divergence or a
 * linearizability violation, 2 when it could not finish; either way it prints the command that replays it.
 */
import { chaosSchedule, runChaos, type ChaosOptions } from './chaos-run';
import { parseChaosFlags } from './chaos-flags';
import { FAULT_KINDS } from './fault-schedule';
import { formatReplay, npmReplayCommand } from './replay';

const DEFAULTS = { time_s: 60, seed: Math.floor(Math.random() * 2 ** 31), nodes: 5, clients: 10, keys: 5, faults: [...FAULT_KINDS] };

async function main(): Promise<void> {
  const options: ChaosOptions = {
    ...parseChaosFlags(process.argv.slice(2), DEFAULTS),
    log: (line) => process.stdout.write(`[${new Date().toISOString().slice(11, 23)}] ${line}\n`),
  };
  const replay = formatReplay({ seed: options.seed, commands: [npmReplayCommand(options)], schedule: chaosSchedule(options) });
  options.log(`chaos: ${options.nodes} nodes, ${options.clients} clients, ${options.time_s} s, seed ${options.seed}, faults ${options.faults.join(',')}`);
  for (const line of replay) options.log(line);
  try {
    const summary = await runChaos(options);
    process.stdout.write(`\n${summary.report}\n`);
    process.stdout.write(
      `${JSON.stringify({ seed: summary.seed, operations: summary.operations, by_kind: summary.operations_by_kind, faults: summary.faults, acknowledged_inserts: summary.acknowledged_inserts, lost_writes: summary.lost_writes, linearizability_violations: summary.linearizability.violations.length, unknown_keys: summary.linearizability.unknown_keys.length, divergent: !summary.set_check.valid }, null, 2)}\n`,
    );
    if (!summary.linearizability.valid || !summary.set_check.valid) {
      process.stdout.write(`ANOMALY — ${replay.join('\n')}\n`);
      process.exitCode = 1;
    }
  } catch (error) {
    process.stderr.write(`${(error as Error).stack}\n${replay.join('\n')}\n`);
    process.exitCode = 2;
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 2;
});
