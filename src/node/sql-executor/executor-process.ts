/**
 * The SQL executor process: a copy of its node's applied state that runs the
 * SQL nothing can bound in advance (reads, and the trial runs of writes).
 * SQLite in better-sqlite3 cannot be interrupted (no progress handler, no
 * sqlite3_interrupt, and a worker thread inside SQLite cannot be terminated),
 * but a process can be killed: the node does that when work outlives its
 * budget, and starts a new executor when more work comes.
 *
 * It runs the same AppliedState code as the node, so its state_hash after the
 * same entries must be the node's; each answer carries it, and the node checks.
 */
import fs from 'node:fs';
import { DdbError, type ErrorBody } from '../../../utils/errors';
import { AppliedState } from '../applied-state';
import type { FromExecutor, ToExecutor, Work } from './executor-messages';

let state = new AppliedState();

function answer(message: FromExecutor): void {
  process.send?.(message);
}

function run(work: Work): unknown {
  if (work.kind === 'query') return state.engine.query(work.db_name, work.script, work.params);
  const result = state.engine.trial(work.command, work.context);
  if (!result.ok) throw new DdbError(result.error.code, result.error.message, result.error.details ?? {});
  return null;
}

function errorBody(error: unknown): ErrorBody {
  if (error instanceof DdbError) return { code: error.code, message: error.message, ...(Object.keys(error.details).length > 0 ? { details: error.details } : {}) };
  return { code: 'INTERNAL', message: `the SQL executor failed: ${String((error as Error)?.message ?? error)}` };
}

process.on('message', (message: ToExecutor) => {
  switch (message.type) {
    case 'load':
      state.close();
      state = new AppliedState(message.limits, message.data_check);
      try {
        state.restore(fs.readFileSync(message.image_file));
      } finally {
        fs.rmSync(message.image_file, { force: true });
      }
      answer({ type: 'loaded' });
      return;
    case 'apply':
      for (const entry of message.entries) if (entry.index > state.applied_index) state.apply(entry);
      return;
    case 'work': {
      let result: { ok: true; value: unknown } | { ok: false; error: ErrorBody };
      try {
        result = { ok: true, value: run(message.work) };
      } catch (error) {
        result = { ok: false, error: errorBody(error) };
      }
      answer({ type: 'answer', id: message.id, applied_index: state.applied_index, state_hash: state.state_hash, content_hash: state.content_hash, result });
      return;
    }
  }
});

// The node is gone (it exited, or was killed): nothing is left to answer.
process.on('disconnect', () => process.exit(0));
