/**
 * Clients waiting on the log: a write waits for its entry to be applied, a
 * read for the applied index to reach a read index. Every waiter has a
 * deadline, and the number of waiters is bounded so a stalled cluster cannot
 * make a node's memory grow without limit.
 */
import type { ApplyResult } from '../../database/commands';
import { DdbError } from '../../utils/errors';
import type { Clock, Timer } from './clock';

interface ProposalWaiter {
  term: number;
  resolve: (result: ApplyResult | null) => void;
  reject: (error: DdbError) => void;
  timer: Timer;
}

interface IndexWaiter {
  index: number;
  resolve: () => void;
}

export const WAITERS_MAX = 100_000;

export function noMaster(message: string): DdbError {
  return new DdbError('NO_MASTER', message);
}

export class ProposalWaiters {
  private readonly byIndex = new Map<number, ProposalWaiter>();

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.byIndex.size;
  }

  /** Resolves with the apply result of the entry at `index` if it still has `term` when applied. */
  wait(index: number, term: number, timeout_ms: number): Promise<ApplyResult | null> {
    if (this.byIndex.size >= WAITERS_MAX) return Promise.reject(noMaster('too many writes in flight; retry'));
    return new Promise((resolve, reject) => {
      const timer = this.clock.after(timeout_ms, () => {
        this.byIndex.delete(index);
        reject(noMaster(`write not committed within ${timeout_ms} ms; it may or may not have been applied`));
      });
      this.byIndex.set(index, { term, resolve, reject, timer });
    });
  }

  /** Called for every applied entry, in order. */
  applied(index: number, term: number, result: ApplyResult | null): void {
    const waiter = this.byIndex.get(index);
    if (waiter === undefined) return;
    this.byIndex.delete(index);
    waiter.timer.cancel();
    if (waiter.term === term) {
      waiter.resolve(result);
    } else {
      // Another master's entry took this slot: ours was never committed.
      waiter.reject(noMaster('the master changed before the write was committed; it was not applied'));
    }
  }

  /** Everything at or below `index` was replaced by a snapshot: the outcome is unknown. */
  skippedTo(index: number): void {
    for (const [waiterIndex, waiter] of this.byIndex) {
      if (waiterIndex > index) continue;
      this.byIndex.delete(waiterIndex);
      waiter.timer.cancel();
      waiter.reject(noMaster('the node installed a snapshot; the write may or may not have been applied'));
    }
  }

  failAll(message: string): void {
    for (const waiter of this.byIndex.values()) {
      waiter.timer.cancel();
      waiter.reject(noMaster(message));
    }
    this.byIndex.clear();
  }
}

/** Reads waiting until the applied index reaches their read index. Kept sorted by index. */
export class AppliedIndexWaiters {
  private waiters: IndexWaiter[] = [];

  waitFor(index: number, appliedIndex: number): Promise<void> {
    if (index <= appliedIndex) return Promise.resolve();
    if (this.waiters.length >= WAITERS_MAX) return Promise.reject(noMaster('too many reads in flight; retry'));
    return new Promise((resolve) => {
      this.waiters.push({ index, resolve });
      this.waiters.sort((a, b) => a.index - b.index);
    });
  }

  applied(appliedIndex: number): void {
    let released = 0;
    while (released < this.waiters.length && this.waiters[released].index <= appliedIndex) {
      this.waiters[released].resolve();
      released += 1;
    }
    if (released > 0) this.waiters = this.waiters.slice(released);
  }
}
