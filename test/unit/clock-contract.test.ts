/**
 * One contract for both clocks of the node shell: the system clock (real
 * timers) and the simulator's SimClock. Timers fire in the order of their
 * due times and never early, a cancelled one never fires, `soon` runs before
 * any timer, and the steady clock does not go back.
 */
import { type Clock, SYSTEM_CLOCK } from '../../src/node/clock';
import { Scheduler } from '../sim/node/scheduler';
import { NodeLife, SimClock } from '../sim/node/sim-clock';

interface ClockHarness {
  clock: Clock;
  /** Lets `duration_ms` pass (real or simulated). */
  pass(duration_ms: number): Promise<void>;
}

function systemHarness(): ClockHarness {
  return { clock: SYSTEM_CLOCK, pass: (duration_ms) => new Promise((resolve) => setTimeout(resolve, duration_ms)) };
}

function simHarness(): ClockHarness {
  const scheduler = new Scheduler();
  return { clock: new SimClock(scheduler, new NodeLife(scheduler)), pass: (duration_ms) => scheduler.runUntil(scheduler.now_ms() + duration_ms) };
}

describe.each([
  ['SYSTEM_CLOCK', systemHarness],
  ['SimClock', simHarness],
])('%s', (_name, make) => {
  it('fires timers in due order and never early; a cancelled one never fires; soon comes first', async () => {
    const { clock, pass } = make();
    const fired: string[] = [];
    const started_ms = clock.steady_ms();
    const at: Record<string, number> = {};
    clock.after(30, () => {
      fired.push('30');
      at['30'] = clock.steady_ms() - started_ms;
    });
    clock.after(10, () => {
      fired.push('10');
      at['10'] = clock.steady_ms() - started_ms;
    });
    clock.after(20, () => fired.push('cancelled')).cancel();
    clock.soon(() => fired.push('soon'));
    await pass(80);
    expect(fired).toEqual(['soon', '10', '30']);
    expect(at['10']).toBeGreaterThanOrEqual(9); // timers may round by a millisecond, never by more
    expect(at['30']).toBeGreaterThanOrEqual(29);
    expect(clock.steady_ms()).toBeGreaterThanOrEqual(started_ms + 80 - 1);
  });

  it('keeps wall-clock time and steady time moving together', async () => {
    const { clock, pass } = make();
    const wall_ms = clock.now_ms();
    const steady_ms = clock.steady_ms();
    await pass(20);
    expect(clock.now_ms() - wall_ms).toBeGreaterThanOrEqual(19);
    expect(clock.steady_ms() - steady_ms).toBeGreaterThanOrEqual(19);
  });
});

describe('a simulated life', () => {
  it('runs nothing of a node that crashed, and runs a paused node late', async () => {
    const scheduler = new Scheduler();
    const life = new NodeLife(scheduler);
    const clock = new SimClock(scheduler, life);
    const fired: number[] = [];
    clock.after(10, () => fired.push(scheduler.now_ms()));
    life.paused = true;
    await scheduler.runUntil(30);
    expect(fired).toEqual([]);
    life.resume();
    await scheduler.runUntil(31);
    expect(fired).toEqual([30]);
    clock.after(5, () => fired.push(-1));
    life.end();
    await scheduler.runUntil(100);
    expect(fired).toEqual([30]);
  });
});
