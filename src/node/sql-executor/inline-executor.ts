/**
 * SQL run on the node's own thread, unbounded: for the simulator and
 * in-process tests, whose nodes have no process of their own to spare.
 */
import type { SqlParams } from '../../../database/commands';
import type { AppliedState } from '../applied-state';
import type { SqlExecutor } from './sql-executor';

export class InlineSqlExecutor implements SqlExecutor {
  constructor(private readonly state: AppliedState) {}

  query(db_name: string | null, script: string, params: SqlParams | undefined): Promise<unknown> {
    return new Promise((resolve) => resolve(this.state.engine.query(db_name, script, params)));
  }

  trial(): Promise<void> {
    return Promise.resolve();
  }

  applied(): void {}

  restored(): void {}

  close(): void {}
}
