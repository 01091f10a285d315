/**
 * What a failed chaos run prints so that it can be run again: the seed, the
 * commands that replay it, and the nemesis's schedule. One seed replays the
 * schedule and each client's sequence of operations exactly; the timing of the
 * real processes (when an answer comes back, who wins an election, when a
 * step's fault lands) still varies, so a replay interleaves differently and a
 * failure that hangs on timing may need a few runs to show again.
 */
import { formatChaosFlags, type ChaosFlags } from './chaos-flags';
import { formatFaultSchedule, type FaultStep } from './fault-schedule';

export const TIMING_NOTE = 'the same fault schedule and client operations; the timing of the real processes still varies';

export function npmReplayCommand(flags: ChaosFlags): string {
  return `npm run chaos -- ${formatChaosFlags(flags)}`;
}

export function formatReplay(replay: { seed: number; commands: readonly string[]; schedule: readonly FaultStep[] }): string[] {
  return [
    `seed ${replay.seed}; replay (${TIMING_NOTE}):`,
    ...replay.commands.map((command) => `  ${command}`),
    'fault schedule:',
    ...formatFaultSchedule(replay.schedule).map((line) => `  ${line}`),
  ];
}
