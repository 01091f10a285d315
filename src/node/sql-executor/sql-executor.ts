/**
 * Where a node runs SQL whose cost nothing bounds in advance: /query reads,
 * and the trial run of a SQL write before the master proposes it. A node
 * process runs them in a separate process it can kill (process-executor.ts);
 * the simulator runs reads inline (inline-executor.ts).
 */
import type { ApplyContext, Command, SqlParams } from '../../../database/commands';
import type { Entry } from '../../replication/messages';
import type { LogPayload } from '../applied-state';

export interface SqlExecutor {
  /** A read-only script against the applied state (at least as new as when called). */
  query(db_name: string | null, script: string, params: SqlParams | undefined): Promise<unknown>;
  /**
   * Runs a SQL write as apply would and undoes it. Resolves when it ended
   * within the write budget, whatever its result (apply gives the same on
   * every node); rejects with QUERY_TIMEOUT when it did not, and with
   * SQL_ERROR when the trial ended the executor: such a write must not enter the log.
   */
  trial(command: Command, context: ApplyContext): Promise<void>;
  /** The node applied this entry. */
  applied(entry: Entry<LogPayload>): void;
  /** The node's state was replaced by a snapshot. */
  restored(): void;
  close(): void;
}
