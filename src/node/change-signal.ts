/**
 * "Something changed": the ready loop calls notify() after every pass, and
 * operations waiting for a master, a commit or a read index wait on next()
 * instead of polling. Every wait has a deadline, after which the caller gets
 * 503 NO_MASTER.
 */
import { noMaster } from './waiters';

export class ChangeSignal {
  private waiting: Array<() => void> = [];

  notify(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }

  /** Resolves at the next notify(); rejects with NO_MASTER once `deadline` (epoch ms) has passed. */
  next(deadline: number): Promise<void> {
    return this.race(new Promise<void>((resolve) => this.waiting.push(resolve)), deadline, 'no master is available');
  }

  race<T>(promise: Promise<T>, deadline: number, message: string): Promise<T> {
    const remaining_ms = deadline - Date.now();
    if (remaining_ms <= 0) return Promise.reject(noMaster(message));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(noMaster(message)), remaining_ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}
