/**
 * The replica's ready loop, written once (etcd's raft leaves it to the
 * application; here it is the application's one copy). Each pass:
 *
 *   ready() → persist (a master's appends leave before the fsync) → fsync
 *     → send → apply committed entries → answer confirmed reads → advance()
 *
 * Between passes it runs the work a node queues for an idle moment (the
 * install of a compaction's snapshot), awaited like an fsync.
 *
 * It takes its storage, its clock and its outlets as arguments, so the node
 * runs it over a real disk and real timers, and the simulator runs the very
 * same code over a simulated disk and simulated time. Completions are
 * callbacks, not promises, on purpose: a storage that completes at once (the
 * replica's unit tests) makes a whole pass synchronous, and a simulated one
 * completes when the simulator says, with nothing left to a microtask queue.
 */
import type { Entry, HardState, Message, ReadState, Snapshot } from '../replication/messages';
import type { Replica } from '../replication/replica';
import { splitAtSync } from '../replication/sync-policy';
import type { StorageBatch } from '../replication/storage';

/** Completion of work the loop waits for; an error stops the loop (the node then fails). */
export type Done = (error: Error | null) => void;

/** What the loop needs of storage: write a batch, and fsync it when write() says one is due. */
export interface LoopStorage<T> {
  write(batch: StorageBatch<T>): boolean;
  sync(done: Done): void;
}

/** Where a pass's results go; all but `failed` may be called many times per run. */
export interface ReadyOutlets<T> {
  /** Schedules run() after the current turn (setImmediate, or the simulator's next step). */
  soon(run: () => void): void;
  /** A pass has taken the replica's ready work (the HTTP transport marks which requests it answers). */
  passStarted(): void;
  /** A snapshot the master sent: restore and store it before anything else of the pass. */
  installSnapshot(snapshot: Snapshot): void;
  send(messages: Message<T>[]): void;
  apply(entries: Entry<T>[]): void;
  readsConfirmed(states: ReadState[]): void;
  /** The pass is over: answer what it made answerable. */
  passEnded(): void;
  /** Work waiting for a moment between passes, or null; it is awaited like an fsync. */
  takeBetweenPasses(): ((done: Done) => void) | null;
  /** A run of passes is over: nothing is ready any more. */
  runEnded(): void;
  /** The storage failed: its files are in an unknown state, and the node must stop. */
  failed(error: Error): void;
}

export class ReadyLoop<T> {
  private scheduled = false;
  private running = false;
  private stopped = false;
  /** The hard state last given to storage: splitAtSync compares a pass's with it. */
  private hard_state: HardState;

  constructor(
    private readonly replica: Replica<T>,
    private readonly storage: LoopStorage<T>,
    private readonly outlets: ReadyOutlets<T>,
    recovered_hard_state: HardState,
  ) {
    this.hard_state = recovered_hard_state;
  }

  /** Asks for passes soon: after a tick, a message, a proposal or a read. */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    this.outlets.soon(() => {
      this.scheduled = false;
      this.run();
    });
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Runs passes until none is due or one waits for its storage, which then
   * calls run() again. One run at a time: a pass that waits holds the loop.
   */
  private run(): void {
    if (this.stopped || this.running) return;
    this.running = true;
    while (!this.stopped) {
      const between = this.outlets.takeBetweenPasses();
      if (between !== null) {
        if (this.waitFor(between)) return;
        continue;
      }
      if (!this.replica.hasReady()) break;
      if (this.pass()) return;
    }
    this.running = false;
    if (!this.stopped) this.outlets.runEnded();
  }

  /** One pass; returns true when it waits for its fsync (the rest runs when the fsync ends). */
  private pass(): boolean {
    const ready = this.replica.ready();
    this.outlets.passStarted();
    if (ready.snapshot !== null) this.outlets.installSnapshot(ready.snapshot);
    let messages = ready.messages;
    if (this.storage.write({ hard_state: ready.hard_state, entries: ready.entries })) {
      const { before, after } = splitAtSync(messages, this.hard_state, ready.hard_state);
      if (before.length > 0) this.outlets.send(before);
      messages = after;
      const finish = () => this.finishPass(ready, messages);
      return this.waitFor((done) => this.storage.sync(done), finish);
    }
    this.finishPass(ready, messages);
    return false;
  }

  private finishPass(ready: ReturnType<Replica<T>['ready']>, messages: Message<T>[]): void {
    if (ready.hard_state !== null) this.hard_state = ready.hard_state;
    if (messages.length > 0) this.outlets.send(messages);
    if (ready.committed.length > 0) this.outlets.apply(ready.committed);
    if (ready.read_states.length > 0) this.outlets.readsConfirmed(ready.read_states);
    this.replica.advance();
    this.outlets.passEnded();
  }

  /**
   * Runs `work` and then `then`. Returns true when `work` had not completed by
   * the time it returned: the loop then stays held, and resumes in its callback.
   */
  private waitFor(work: (done: Done) => void, then: () => void = () => undefined): boolean {
    let returned = false;
    let completed_at_once = false;
    work((error) => {
      if (this.stopped) return;
      if (error !== null) {
        this.stopped = true;
        this.outlets.failed(error);
        return;
      }
      then();
      if (!returned) {
        completed_at_once = true;
        return;
      }
      this.running = false;
      this.run();
    });
    returned = true;
    return !completed_at_once && !this.stopped;
  }
}
