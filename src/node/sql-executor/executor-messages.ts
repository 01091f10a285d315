/**
 * What the node and its SQL executor process say to each other over the IPC
 * channel (advanced serialization, so images travel as bytes). The node sends
 * in order: an image to start from, then the entries it applies after it, then
 * work; the executor answers each piece of work with its id.
 */
import type { Command, ApplyContext, SqlParams } from '../../../database/commands';
import type { EngineLimits } from '../../../database/limits';
import type { ErrorBody } from '../../../utils/errors';
import type { Entry } from '../../replication/messages';
import type { DataCheckSettings, LogPayload } from '../applied-state';

/** A local read of a SQL script, as Engine.query runs it. */
export interface QueryWork {
  kind: 'query';
  db_name: string | null;
  script: string;
  params?: SqlParams;
}

/** A write's trial run: applied as the log would apply it, then undone. */
export interface TrialWork {
  kind: 'trial';
  command: Command;
  context: ApplyContext;
}

export type Work = QueryWork | TrialWork;

export type ToExecutor =
  /**
   * Start over from the AppliedState snapshot image in this file, under the
   * node's own limits (they decide results); the executor deletes the file.
   * A file, not the message: a large image sent over IPC was copied twice on
   * the node's side and once more on the executor's.
   */
  | { type: 'load'; image_file: string; limits?: EngineLimits; data_check: DataCheckSettings }
  /** Entries the node applied after the last load or apply, in order. */
  | { type: 'apply'; entries: Entry<LogPayload>[] }
  | { type: 'work'; id: number; work: Work };

export type FromExecutor =
  | { type: 'loaded' }
  /**
   * One answer. applied_index and both hashes are the executor's own after
   * the entries it was sent: the node checks them against its own chains.
   */
  | { type: 'answer'; id: number; applied_index: number; state_hash: string; content_hash: string; result: { ok: true; value: unknown } | { ok: false; error: ErrorBody } };
