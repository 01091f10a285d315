/**
 * Waiting on the cluster: for a master to be known, for another master than
 * the one that just failed a request, or for a promise, each until a
 * deadline (epoch ms) after which the caller gets 503 NO_MASTER. Waits wake
 * on the ready loop's change signal, never by polling.
 */
import type { Replica } from '../replication/replica';
import type { LogPayload } from './applied-state';
import type { ChangeSignal } from './change-signal';

export class MasterWait {
  constructor(
    private readonly replica: Replica<LogPayload>,
    private readonly changes: ChangeSignal,
  ) {}

  /** The master as this node knows it (itself when master); null when it knows none. */
  current(): number | null {
    return this.replica.masterId();
  }

  async master(deadline_ms: number): Promise<number> {
    for (;;) {
      const master = this.current();
      if (master !== null) return master;
      await this.changes.next(deadline_ms);
    }
  }

  async otherThan(previous: number, deadline_ms: number): Promise<void> {
    while (this.current() === previous || this.current() === null) {
      await this.changes.next(deadline_ms);
    }
  }

  /** `promise`, or NO_MASTER ("<what> not confirmed by a majority in time") at the deadline. */
  withDeadline<T>(promise: Promise<T>, deadline_ms: number, what: string): Promise<T> {
    return this.changes.race(promise, deadline_ms, `${what} not confirmed by a majority in time`);
  }

  /** The next change (a ready pass), or NO_MASTER at the deadline. */
  next(deadline_ms: number): Promise<void> {
    return this.changes.next(deadline_ms);
  }
}
