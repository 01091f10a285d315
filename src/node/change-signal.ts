/**
 * "Something changed": the ready loop calls notify() after every pass, and
 * operations waiting for a master, a commit or a read index wait on next()
 * instead of polling. Every wait has a deadline, after which the caller gets
 * 503 NO_MASTER.
 */
import type { Clock } from './clock';
import { noMaster } from './waiters';

export class ChangeSignal {
  private waiting: Array<() => void> = [];

  constructor(private readonly clock: Clock) {}

  notify(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }

  /** Resolves at the next notify(); rejects with NO_MASTER once `deadline_ms` (epoch ms) has passed. */
  next(deadline_ms: number): Promise<void> {
    return this.race(new Promise<void>((resolve) => this.waiting.push(resolve)), deadline_ms, 'no master is available');
  }

  race<T>(promise: Promise<T>, deadline_ms: number, message: string): Promise<T> {
    const remaining_ms = deadline_ms - this.clock.now_ms();
    if (remaining_ms <= 0) return Promise.reject(noMaster(message));
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = this.clock.after(remaining_ms, () => reject(noMaster(message)));
    });
    return Promise.race([promise, timeout]).finally(() => timer?.cancel());
  }
}
