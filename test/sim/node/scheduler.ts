/**
 * Simulated time for the node-level simulator: one queue of events ordered
 * by (time, order of scheduling), run one millisecond at a time. After the
 * events of each millisecond the microtask queue is drained (one macrotask
 * hop), so the promise continuations of the node's async paths (a client's
 * write, a forwarded batch) run at a point fixed by the schedule, never by
 * the host: the same seed gives the same run. Nothing here reads a real clock.
 */

interface ScheduledEvent {
  time_ms: number;
  order: number;
  run: () => void;
}

/** A binary heap of events: earliest time first, then the order they were scheduled in. */
class EventHeap {
  private readonly items: ScheduledEvent[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): ScheduledEvent | undefined {
    return this.items[0];
  }

  push(event: ScheduledEvent): void {
    const items = this.items;
    items.push(event);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(event, items[parent] as ScheduledEvent)) break;
      items[index] = items[parent] as ScheduledEvent;
      index = parent;
    }
    items[index] = event;
  }

  pop(): ScheduledEvent | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && before(items[right] as ScheduledEvent, items[left] as ScheduledEvent) ? right : left;
      if (!before(items[child] as ScheduledEvent, last)) break;
      items[index] = items[child] as ScheduledEvent;
      index = child;
    }
    items[index] = last;
    return top;
  }
}

function before(left: ScheduledEvent, right: ScheduledEvent): boolean {
  return left.time_ms < right.time_ms || (left.time_ms === right.time_ms && left.order < right.order);
}

/** Drains the microtask queue: a macrotask runs only after every microtask has. */
const drainMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Scheduler {
  private readonly events = new EventHeap();
  private order = 0;
  private time_ms = 0;
  /** Events run so far, for the summary. */
  events_run = 0;

  now_ms(): number {
    return this.time_ms;
  }

  /** Runs `run` at `time_ms` (never before now). */
  at(time_ms: number, run: () => void): void {
    this.order += 1;
    this.events.push({ time_ms: Math.max(time_ms, this.time_ms), order: this.order, run });
  }

  after(delay_ms: number, run: () => void): void {
    this.at(this.time_ms + Math.max(0, delay_ms), run);
  }

  /** Runs every event up to `time_ms`, then leaves the clock there. */
  async runUntil(time_ms: number): Promise<void> {
    for (;;) {
      const next = this.events.peek();
      if (next === undefined || next.time_ms > time_ms) break;
      this.time_ms = next.time_ms;
      // Every event of this millisecond, including those its continuations schedule for it.
      for (;;) {
        while (this.events.peek()?.time_ms === this.time_ms) {
          (this.events.pop() as ScheduledEvent).run();
          this.events_run += 1;
        }
        await drainMicrotasks();
        if (this.events.peek()?.time_ms !== this.time_ms) break;
      }
    }
    this.time_ms = Math.max(this.time_ms, time_ms);
  }
}
