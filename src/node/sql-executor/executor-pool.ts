/**
 * The SQL executors of a node process: one for the trial runs of SQL writes,
 * and up to READERS_MAX for /query reads. A read that runs for its whole
 * statement_timeout_ms then holds one reader only: other reads go to the
 * other, and a write's trial never waits behind a read (it has its own
 * process, and a budget below the fail-over timeout).
 *
 * Each executor is a process of its own with its own copy of the data
 * (process-executor.ts), started when work comes to it and ended after a
 * minute without work: the second reader starts only when the first is busy.
 * Reads queued behind one that has run STALL_MS (process-executor.ts) move to
 * a reader that is not stalled, and new reads go to such a reader first.
 */
import type { ApplyContext, Command, SqlParams } from '../../../database/commands';
import type { Entry } from '../../replication/messages';
import type { LogPayload } from '../applied-state';
import { ProcessSqlExecutor, type ProcessExecutorOptions } from './process-executor';
import type { SqlExecutor } from './sql-executor';

/** Two cores here: more readers would only share them. */
export const READERS_MAX = 2;

export class SqlExecutorPool implements SqlExecutor {
  private readonly trials: ProcessSqlExecutor;
  private readonly readers: ProcessSqlExecutor[];

  constructor(options: ProcessExecutorOptions, readers_max = READERS_MAX) {
    this.trials = new ProcessSqlExecutor(options);
    this.readers = Array.from({ length: Math.max(1, readers_max) }, () => new ProcessSqlExecutor({ ...options, on_changed: () => this.rebalance() }));
  }

  query(db_name: string | null, script: string, params: SqlParams | undefined): Promise<unknown> {
    return this.leastLoaded().query(db_name, script, params);
  }

  trial(command: Command, context: ApplyContext, timeout_ms?: number): Promise<void> {
    return this.trials.trial(command, context, timeout_ms);
  }

  applied(entry: Entry<LogPayload>): void {
    this.trials.applied(entry);
    for (const reader of this.readers) reader.applied(entry);
  }

  restored(): void {
    this.trials.restored();
    for (const reader of this.readers) reader.restored();
  }

  close(): void {
    this.trials.close();
    for (const reader of this.readers) reader.close();
  }

  /**
   * Reads queued behind a long one (on a stalled reader) go to the readers
   * that are not stalled, if there are any. Only reads not yet begun move, so
   * none runs twice. Called when a reader's read passes stall_ms and when one
   * ends. (An idle reader taking half the busiest one's queue evened out the
   * queues after a move, but cost 12-15 % of SQL reads/s at 50 clients in
   * moves: not done.)
   */
  private rebalance(): void {
    // Who is stalled is read once: moving work forks processes, and a reader may stall meanwhile.
    const stalled = this.readers.filter((reader) => reader.stalled);
    const free = this.readers.filter((reader) => !reader.stalled);
    if (free.length === 0) return;
    for (const reader of stalled) for (const moved of reader.takeQueued()) leastLoadedOf(free).adopt(moved);
  }

  /** For a new read: a reader that is not stalled on a long read before one that is, then the least loaded. */
  private leastLoaded(): ProcessSqlExecutor {
    const free = this.readers.filter((reader) => !reader.stalled);
    return leastLoadedOf(free.length > 0 ? free : this.readers);
  }
}

/** The first with no work, else the one with the least; a running process before one that must start. */
function leastLoadedOf(readers: ProcessSqlExecutor[]): ProcessSqlExecutor {
  let best = readers[0] as ProcessSqlExecutor;
  for (const reader of readers) {
    if (reader.load < best.load || (reader.load === best.load && reader.running && !best.running)) best = reader;
  }
  return best;
}
