/** The replay command a failed chaos run prints means the run that failed: every option survives the round trip. */
import { formatChaosFlags, parseChaosFlags, type ChaosFlags } from '../chaos/chaos-flags';
import { chaosSchedule } from '../chaos/chaos-run';
import { FAULT_KINDS } from '../chaos/fault-schedule';
import { formatReplay, npmReplayCommand } from '../chaos/replay';

const DEFAULTS: ChaosFlags = { time_s: 60, seed: 1, nodes: 5, clients: 10, keys: 5, faults: [...FAULT_KINDS] };

describe('chaos flags', () => {
  test('printed flags parse back to the same options, whatever the defaults', () => {
    const ran: ChaosFlags = { time_s: 30, seed: 424242, nodes: 3, clients: 8, keys: 4, faults: ['kill', 'asymmetric'] };
    expect(parseChaosFlags(formatChaosFlags(ran).split(' '), DEFAULTS)).toEqual(ran);
    expect(npmReplayCommand(ran)).toBe('npm run chaos -- --seed 424242 --time 30 --nodes 3 --clients 8 --keys 4 --faults kill,asymmetric');
  });

  test('a bad flag is one clear error', () => {
    expect(() => parseChaosFlags(['--seed', '1.5'], DEFAULTS)).toThrow('--seed needs an integer, got 1.5');
    expect(() => parseChaosFlags(['--faults', 'kill,flood'], DEFAULTS)).toThrow(/unknown fault kinds: flood/);
    expect(() => parseChaosFlags(['--time'], DEFAULTS)).toThrow('--time needs a value');
    expect(() => parseChaosFlags(['--speed', '2'], DEFAULTS)).toThrow('unknown option --speed');
  });

  test('the replay printout names the seed, the commands and every step, and says timing still varies', () => {
    const flags: ChaosFlags = { ...DEFAULTS, time_s: 30, seed: 42 };
    const lines = formatReplay({ seed: 42, commands: ['CHAOS_SEED=42 npx jest test/chaos', npmReplayCommand(flags)], schedule: chaosSchedule(flags) });
    expect(lines[0]).toBe('seed 42; replay (the same fault schedule and client operations; the timing of the real processes still varies):');
    expect(lines[1]).toBe('  CHAOS_SEED=42 npx jest test/chaos');
    expect(lines[3]).toBe('fault schedule:');
    expect(lines.slice(4)).toHaveLength(7);
    expect(lines.slice(4).every((line) => line.startsWith('  step '))).toBe(true);
  });
});
