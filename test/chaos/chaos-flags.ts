/**
 * The chaos runner's command-line flags, both ways: parsed into options, and
 * printed from options. A failed run prints every option it ran with, because
 * the fault schedule depends on the seed, nodes, faults and time, and the
 * client operations on the seed, clients and keys.
 */
import type { ChaosOptions } from './chaos-run';
import { FAULT_KINDS, type FaultKind } from './fault-schedule';

export type ChaosFlags = Omit<ChaosOptions, 'log'>;

export function parseChaosFlags(argv: readonly string[], defaults: ChaosFlags): ChaosFlags {
  const flags: ChaosFlags = { ...defaults, faults: [...defaults.faults] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--time') flags.time_s = Number(value);
    else if (flag === '--seed') {
      flags.seed = Number(value);
      if (!Number.isInteger(flags.seed)) throw new Error(`--seed needs an integer, got ${value}`);
    } else if (flag === '--nodes') flags.nodes = Number(value);
    else if (flag === '--clients') flags.clients = Number(value);
    else if (flag === '--keys') flags.keys = Number(value);
    else if (flag === '--faults') {
      flags.faults = value.split(',') as FaultKind[];
      const unknown = flags.faults.filter((kind) => !FAULT_KINDS.includes(kind));
      if (unknown.length > 0) throw new Error(`unknown fault kinds: ${unknown.join(', ')} (known: ${FAULT_KINDS.join(', ')})`);
    } else throw new Error(`unknown option ${flag}`);
  }
  return flags;
}

/** Every flag, so the command means the same run whatever the defaults become. */
export function formatChaosFlags(flags: ChaosFlags): string {
  return `--seed ${flags.seed} --time ${flags.time_s} --nodes ${flags.nodes} --clients ${flags.clients} --keys ${flags.keys} --faults ${flags.faults.join(',')}`;
}
