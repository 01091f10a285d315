/**
 * Time as the node shell sees it, behind one small interface: the real
 * system clock and timers in a node process, simulated time in the
 * simulator (test/sim), which then decides when every timer fires.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch: deadlines, and the timestamp a master gives a write. */
  now_ms(): number;
  /** A steady clock in milliseconds, for counting ticks (never goes back). */
  steady_ms(): number;
  /** Runs `run` once, `delay_ms` from now. */
  after(delay_ms: number, run: () => void): Timer;
  /** Runs `run` after the current turn, before any timer (setImmediate). */
  soon(run: () => void): void;
}

export const SYSTEM_CLOCK: Clock = {
  now_ms: () => Date.now(),
  steady_ms: () => performance.now(),
  after: (delay_ms, run) => {
    const timer = setTimeout(run, delay_ms);
    return { cancel: () => clearTimeout(timer) };
  },
  soon: (run) => {
    setImmediate(run);
  },
};

/** Resolves after the current turn (Clock.soon): long work awaits it between slices, so the node keeps serving. */
export function nextTurn(clock: Pick<Clock, 'soon'>): Promise<void> {
  return new Promise<void>((resolve) => clock.soon(resolve));
}
