/**
 * Committed entries on their way to apply, held back at a SQL write that no
 * trial run has bounded. The master tries every SQL write before it proposes
 * it and marks it `tried` (write-path.ts), so on a node of this version the
 * gate only passes entries through. An entry written by an older ddb, which
 * proposed SQL untried, may hold a statement that never ends: applied on the
 * main thread it would hang the node, and after a restart hang it again on
 * replay, on every node that holds it. Such an entry is tried here first (in
 * the SQL executor, within statement_timeout_ms: the aim is to catch a
 * statement that never ends, not to hold old writes to the write budget) and
 * applied only if the trial ended. One that ran past it, or ended the
 * executor, twice, the second time in an executor started afresh from the
 * node's data with nothing else to do (the first may have been slowed by the
 * executor catching up, or killed while it loaded), is refused: its result
 * is an error, and the data is left as it was.
 *
 * Whether a trial ends within its budget is a matter of timing: for a
 * statement near it, not the same on every node. A slave that decides
 * otherwise than the master has a different content hash, and is repaired
 * from the master's image (content-check.ts); a master that does is the odd
 * one out, which content-check refuses to spread (README). This protects
 * against old logs, not against a master: one that marks a statement that
 * never ends `tried` hangs the nodes that apply it, as any master that
 * proposes a bad entry could before.
 */
import type { ErrorBody } from '../../utils/errors';
import type { Logger } from '../../utils/logger';
import type { ApplyContext, Command } from '../../database/commands';
import type { Entry } from '../replication/messages';
import type { LogPayload } from './applied-state';
import { ExecutorEnded, StatementStopped } from './sql-executor/sql-executor';

export interface ApplyGateParts {
  /** The node's applied index: entries at or below it are passed over. */
  applied_index(): number;
  /** Applies one entry (node.applyEntry). */
  apply(entry: Entry<LogPayload>): void;
  /** From now on the entry is applied as this error, not run (AppliedState.refuse). */
  refuse(entry: Entry<LogPayload>, error: ErrorBody): void;
  /** SqlExecutor.trial, with the budget of a read (statement_timeout_ms). */
  trial(command: Command, context: ApplyContext): Promise<void>;
  /** Applying failed in a way the node cannot go on from (an entry out of order: a bug). */
  failed(error: unknown): void;
  /** Entries were applied outside a pass of the ready loop: whatever waits on applied entries must hear of it. */
  appliedLater(): void;
  logger: Logger;
}

/** A trial that could not be run at all (the executor could not start, or diverged) is tried again after this, doubling. */
const RETRY_MS_MIN = 100;
const RETRY_MS_MAX = 5000;

export class ApplyGate {
  /** Entries held back, in order; the first is being tried. */
  private held: Entry<LogPayload>[] = [];
  private heldFrom = 0;
  /** Bumped when held entries are dropped, so a trial's late answer for one of them is ignored. */
  private generation = 0;
  private retry_ms = RETRY_MS_MIN;
  /** A trial of the first held entry is running. */
  private trying = false;
  /** How many of its trials ran past the budget or ended the executor. */
  private overruns = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly parts: ApplyGateParts) {}

  /** Entries held back, waiting for a trial. */
  get holding(): number {
    return this.held.length - this.heldFrom;
  }

  /** Committed entries, in order, after the ones pushed before. */
  push(entries: Entry<LogPayload>[]): void {
    if (this.holding > 0) {
      for (const entry of entries) this.held.push(entry);
      return;
    }
    for (let index = 0; index < entries.length; index += 1) {
      const entry = entries[index] as Entry<LogPayload>;
      if (needsTrial(entry) && entry.index > this.parts.applied_index()) {
        this.held = entries.slice(index);
        this.heldFrom = 0;
        this.tryFirst();
        return;
      }
      this.parts.apply(entry);
    }
  }

  /**
   * The node's state moved to `applied_index` by a snapshot or a repair:
   * entries held at or below it are dropped, and a trial of one of them is
   * forgotten (its state is gone).
   */
  restored(applied_index: number): void {
    if (this.holding === 0) return;
    while (this.heldFrom < this.held.length && (this.held[this.heldFrom] as Entry<LogPayload>).index <= applied_index) this.heldFrom += 1;
    // Whatever trial ran, ran on the data from before: its verdict does not hold for the new one.
    this.generation += 1;
    this.trying = false;
    this.overruns = 0;
    this.cancelRetry();
    this.compactHeld();
    this.drain();
  }

  close(): void {
    this.closed = true;
    this.generation += 1;
    this.cancelRetry();
    this.held = [];
    this.heldFrom = 0;
  }

  /** Applies held entries until the next one that needs a trial, which it starts. */
  private drain(): void {
    while (!this.closed && this.heldFrom < this.held.length) {
      const entry = this.held[this.heldFrom] as Entry<LogPayload>;
      if (needsTrial(entry) && entry.index > this.parts.applied_index()) {
        this.tryFirst();
        return;
      }
      this.heldFrom += 1;
      this.parts.apply(entry);
    }
    this.compactHeld();
  }

  private tryFirst(): void {
    const entry = this.held[this.heldFrom] as Entry<LogPayload>;
    const payload = entry.data as LogPayload;
    const generation = this.generation;
    this.trying = true;
    this.parts.logger.debug('trying a SQL write from an older log before applying it', { index: entry.index, term: entry.term });
    this.parts.trial(payload.command, payload.context).then(
      () => this.tried(generation, entry, null),
      (error: unknown) => this.tried(generation, entry, error),
    );
  }

  private tried(generation: number, entry: Entry<LogPayload>, error: unknown): void {
    if (this.closed || generation !== this.generation) return;
    this.trying = false;
    try {
      this.decide(generation, entry, error);
    } catch (failure) {
      this.closed = true;
      this.parts.failed(failure);
    }
  }

  private decide(generation: number, entry: Entry<LogPayload>, error: unknown): void {
    const overran = error instanceof StatementStopped || error instanceof ExecutorEnded;
    if (overran && this.overruns === 0) {
      // Once more, in a fresh executor (the last one was killed, or ended): only the statement counts now.
      this.overruns = 1;
      this.parts.logger.warn('a SQL write from an older log did not end within its budget when tried; trying it once more', { index: entry.index });
      this.tryFirst();
      return;
    }
    if (error !== null && !overran) {
      // Not an answer about the write: it was not run. Try again; apply waits (applying it untried could hang the node).
      this.parts.logger.error('could not try a SQL write from an older log; trying again', { index: entry.index, retry_ms: this.retry_ms, error: (error as Error)?.message ?? String(error) });
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (!this.closed && generation === this.generation && !this.trying) this.tryFirst();
      }, this.retry_ms);
      this.retryTimer.unref();
      this.retry_ms = Math.min(RETRY_MS_MAX, this.retry_ms * 2);
      return;
    }
    this.retry_ms = RETRY_MS_MIN;
    this.overruns = 0;
    if (error !== null) {
      const refusal = refusalOf(error);
      this.parts.logger.error('refused a SQL write from an older log: its trial did not end within the write budget; it is not applied', { index: entry.index, term: entry.term, code: refusal.code });
      this.parts.refuse(entry, refusal);
    }
    this.heldFrom += 1;
    this.parts.apply(entry);
    this.drain();
    this.parts.appliedLater();
  }

  private cancelRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private compactHeld(): void {
    if (this.heldFrom === 0) return;
    if (this.heldFrom >= this.held.length) this.held = [];
    else this.held = this.held.slice(this.heldFrom);
    this.heldFrom = 0;
  }
}

/** A SQL write the master did not try (an older ddb wrote it). Data that is not a valid payload fails in apply, at once. */
export function needsTrial(entry: Entry<LogPayload>): boolean {
  const data = entry.data as Partial<LogPayload> | null;
  return data !== null && typeof data === 'object' && typeof data.command === 'object' && data.command !== null && data.command.type === 'sql' && data.tried !== true;
}

/**
 * The result that stands for a refused entry: the same words on every node,
 * with no timing or process detail in them (the content hash covers results).
 */
function refusalOf(error: unknown): ErrorBody {
  if (error instanceof StatementStopped) {
    return { code: 'QUERY_TIMEOUT', message: 'this SQL write, from a log written by an older ddb, ran past statement_timeout_ms when tried, twice, and was not applied' };
  }
  return { code: 'SQL_ERROR', message: 'this SQL write, from a log written by an older ddb, ended the SQL executor when tried, twice (it may need more memory than the node has), and was not applied' };
}
