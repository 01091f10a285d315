/**
 * npm run chaos -- [--time S] [--seed N] [--nodes N] [--clients N] [--keys N] [--faults kill,pause,partition,isolate-master,asymmetric]
 * Exits 1 when the run found a lost write, a divergence or a linearizability violation.
 */
import { runChaos, type ChaosOptions } from './chaos-run';
import { FAULT_KINDS, type FaultKind } from './fault-schedule';

function parse(argv: string[]): ChaosOptions {
  const options: ChaosOptions = {
    time_s: 60,
    seed: Math.floor(Math.random() * 2 ** 31),
    nodes: 5,
    clients: 10,
    keys: 5,
    faults: [...FAULT_KINDS],
    log: (line) => process.stdout.write(`[${new Date().toISOString().slice(11, 23)}] ${line}\n`),
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--time') options.time_s = Number(value);
    else if (flag === '--seed') options.seed = Number(value);
    else if (flag === '--nodes') options.nodes = Number(value);
    else if (flag === '--clients') options.clients = Number(value);
    else if (flag === '--keys') options.keys = Number(value);
    else if (flag === '--faults') {
      options.faults = value.split(',') as FaultKind[];
      const unknown = options.faults.filter((kind) => !FAULT_KINDS.includes(kind));
      if (unknown.length > 0) throw new Error(`unknown fault kinds: ${unknown.join(', ')} (known: ${FAULT_KINDS.join(', ')})`);
    } else throw new Error(`unknown option ${flag}`);
  }
  return options;
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  options.log(`chaos: ${options.nodes} nodes, ${options.clients} clients, ${options.time_s} s, seed ${options.seed}, faults ${options.faults.join(',')}`);
  const summary = await runChaos(options);
  process.stdout.write(`\n${summary.report}\n`);
  process.stdout.write(
    `${JSON.stringify({ seed: summary.seed, operations: summary.operations, by_kind: summary.operations_by_kind, faults: summary.faults, acknowledged_inserts: summary.acknowledged_inserts, lost_writes: summary.lost_writes, linearizability_violations: summary.linearizability.violations.length, unknown_keys: summary.linearizability.unknown_keys.length, divergent: !summary.set_check.valid }, null, 2)}\n`,
  );
  if (!summary.linearizability.valid || !summary.set_check.valid) {
    process.stdout.write(`ANOMALY — replay with: npm run chaos -- --seed ${summary.seed} --time ${options.time_s}\n`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 2;
});
