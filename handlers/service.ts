/**
 * The narrow interface the HTTP layer needs from a node. Handlers validate,
 * call one of these, and map errors; they know nothing of replication, so the
 * API tests can drive them through `supertest(createApp(node))` without sockets.
 */
import type { ContentCheckStatus } from '../src/node/content-check';
import type { Command, SqlParams } from '../database/commands';
import type { Engine } from '../database/engine';
import type { Readiness } from '../src/node/readiness';

export type Consistency = 'local' | 'strong';

/**
 * Who asks: the user a request authenticated as, or null where the API is
 * open (no users file). A slave forwards it with the write, and the master
 * checks that user's rights again before proposing.
 */
export interface Caller {
  user: string | null;
}

export const ANONYMOUS: Caller = { user: null };

export interface MemberStatus {
  id: number;
  url: string;
  role: 'master' | 'slave' | 'candidate' | 'unknown';
  alive: boolean;
  match_index: number;
  last_contact_ms: number | null;
}

export interface NodeStatus {
  id: number;
  url: string;
  role: 'master' | 'slave' | 'candidate';
  term: number;
  master_id: number | null;
  master_url: string | null;
  commit_index: number;
  applied_index: number;
  /** Entries held in the in-memory log; compaction keeps it under log_entries_max. */
  log_entries: number;
  /** The last index the latest snapshot covers (0 before the first compaction). */
  snapshot_index: number;
  state_hash: string;
  /** The chain of what each applied entry did (its answer): equal on nodes at the same applied_index whose data agrees. */
  content_hash: string;
  /** This node's comparisons with the master (src/node/content-check.ts). */
  content_check: ContentCheckStatus;
  nodes: MemberStatus[];
}

export interface DatabaseService {
  /** The local engine, for reads only: writes go through `write`. */
  readonly engine: Pick<Engine, 'select' | 'search' | 'getRow' | 'defaultDatabase' | 'listDatabases'>;
  /**
   * Commits a write through the master (a slave forwards it) and resolves with
   * the engine's result once applied. Rejects with DdbError: the engine's own
   * error, or NO_MASTER when it could not be committed in time.
   */
  write(command: Command, caller?: Caller): Promise<unknown>;
  /** A privileged write: only the master runs it; elsewhere rejects with NOT_MASTER. */
  writeAsMaster(command: Command, caller?: Caller): Promise<unknown>;
  /**
   * A read-only SQL script (as classifyScript calls it) against the local
   * state, within statement_timeout_ms (else QUERY_TIMEOUT); call readBarrier first.
   */
  query(db_name: string | null, script: string, params?: SqlParams): Promise<unknown>;
  /** Resolves once a read at this consistency may be served from the local engine. */
  readBarrier(consistency: Consistency): Promise<void>;
  status(): NodeStatus;
  /** Whether this node knows a live master and has applied what it had committed (GET /ready). */
  readiness(): Readiness;
}
