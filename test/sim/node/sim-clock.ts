/**
 * One simulated node's clock (src/node/clock.ts's interface) over the
 * simulator's scheduler. The node's life is a generation: a crash ends it,
 * and every timer it left behind then does nothing, as after a SIGKILL. A
 * paused node (SIGSTOP) runs nothing; what falls due meanwhile runs when it
 * resumes, late, as a stopped process's timers do.
 */
import type { Clock, Timer } from '../../../src/node/clock';
import type { Scheduler } from './scheduler';

/** The simulated epoch: a fixed date, so runs replay. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);

export class NodeLife {
  generation = 0;
  paused = false;
  private deferred: (() => void)[] = [];
  /** Called when this life ends: the connections it held are reset. */
  private endings: (() => void)[] = [];

  constructor(private readonly scheduler: Scheduler) {}

  /** Runs `run` if this life still goes on (deferred while paused). */
  guard(run: () => void): () => void {
    const generation = this.generation;
    return () => {
      if (generation !== this.generation) return;
      if (this.paused) this.deferred.push(run);
      else run();
    };
  }

  end(): void {
    this.generation += 1;
    this.paused = false;
    this.deferred = [];
    const endings = this.endings;
    this.endings = [];
    for (const ending of endings) ending();
  }

  /** Runs `ending` when this life ends (a connection to the process is reset). */
  onEnd(ending: () => void): void {
    this.endings.push(ending);
  }

  resume(): void {
    this.paused = false;
    const deferred = this.deferred;
    this.deferred = [];
    for (const run of deferred) this.scheduler.after(0, this.guard(run));
  }
}

export class SimClock implements Clock {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly life: NodeLife,
  ) {}

  now_ms(): number {
    return SIM_EPOCH_MS + this.scheduler.now_ms();
  }

  steady_ms(): number {
    return this.scheduler.now_ms();
  }

  after(delay_ms: number, run: () => void): Timer {
    let cancelled = false;
    this.scheduler.after(delay_ms, this.life.guard(() => {
      if (!cancelled) run();
    }));
    return { cancel: () => (cancelled = true) };
  }

  soon(run: () => void): void {
    this.scheduler.after(0, this.life.guard(run));
  }
}
