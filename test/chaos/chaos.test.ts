/**
 * A short chaos run in `npm test`: 5 real nodes, every fault kind, about 30 s.
 * nftables is required for the partitions; `npm test` installs it first (scripts/ensure-test-tools.js).
 */
import { runChaos } from './chaos-run';
import { Firewall } from './firewall';
import { FAULT_KINDS } from './fault-schedule';

jest.setTimeout(240_000);

it('loses no acknowledged write and stays linearizable under kills, pauses and partitions', async () => {
  expect(Firewall.available()).toBe(true);
  const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
  const lines: string[] = [];
  const summary = await runChaos({
    time_s: Number(process.env.CHAOS_TIME_S ?? 30),
    seed,
    nodes: 5,
    clients: 8,
    keys: 4,
    faults: [...FAULT_KINDS],
    log: (line) => lines.push(line),
  });
  const context = `seed ${seed} (replay: CHAOS_SEED=${seed} npx jest test/chaos)\n${lines.join('\n')}\n${summary.report}`;
  expect({ context, lost: summary.lost_writes }).toEqual({ context, lost: 0 });
  expect({ context, violations: summary.linearizability.violations.length }).toEqual({ context, violations: 0 });
  expect({ context, valid: summary.set_check.valid }).toEqual({ context, valid: true });
  expect(summary.linearizability.keys_checked).toBeGreaterThan(0);
  expect(summary.acknowledged_inserts).toBeGreaterThan(0);
});
