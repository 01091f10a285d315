/**
 * Where a node runs SQL whose cost nothing bounds in advance: /query reads,
 * and the trial run of a SQL write before the master proposes it. A node
 * process runs them in a separate process it can kill (process-executor.ts);
 * the simulator runs reads inline (inline-executor.ts).
 */
import type { ApplyContext, Command, SqlParams } from '../../../database/commands';
import type { Entry } from '../../replication/messages';
import type { LogPayload } from '../applied-state';
import { DdbError } from '../../../utils/errors';

export interface SqlExecutor {
  /** A read-only script against the applied state (at least as new as when called). */
  query(db_name: string | null, script: string, params: SqlParams | undefined): Promise<unknown>;
  /**
   * Runs a SQL write as apply would and undoes it. Resolves when it ended
   * within `timeout_ms` (the write budget unless given), whatever its result (apply gives the same on
   * every node). Rejects when it did not: with StatementStopped (QUERY_TIMEOUT)
   * when it ran past the budget, ExecutorEnded (SQL_ERROR) when it ended the
   * executor, and another error when it could not be run at all (it waited too
   * long, the executor diverged, the node is stopping). Such a write must not
   * enter the log, and was not shown to be safe to apply.
   */
  trial(command: Command, context: ApplyContext, timeout_ms?: number): Promise<void>;
  /** The node applied this entry. */
  applied(entry: Entry<LogPayload>): void;
  /** The node's state was replaced by a snapshot. */
  restored(): void;
  close(): void;
}

/** The work ran past its budget, and the executor was killed to stop it (not: it waited too long behind other work). */
export class StatementStopped extends DdbError {}

/** The executor process ended by itself while running the work (most likely out of memory). */
export class ExecutorEnded extends DdbError {
  constructor(code: number | null, signal: NodeJS.Signals | null) {
    super('SQL_ERROR', `the SQL executor ended while running this statement (code ${String(code)}, signal ${String(signal)}): the statement may need more memory than this node has; nothing was changed`);
  }
}
