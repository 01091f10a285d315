/**
 * Everything a node is given rather than makes, so that one node shell runs
 * in a node process (create-node.ts: a disk, HTTP, the system clock) and in
 * the simulator (test/sim: a simulated disk, network and time) alike.
 */
import type { Entry, ReplicaStatus, SnapshotMeta } from '../replication/messages';
import type { LogStorage } from '../replication/storage';
import type { AppliedState, LogPayload } from './applied-state';
import type { Clock } from './clock';
import type { PeerTransport } from './peer-transport';
import type { SqlExecutor } from './sql-executor/sql-executor';

/** Sees every entry a node applies, every snapshot it restores and its role after each pass: the simulator's checker. */
export interface NodeObserver {
  passEnded(status: ReplicaStatus): void;
  applied(entry: Entry<LogPayload>, state: Pick<AppliedState, 'applied_index' | 'state_hash' | 'content_hash'>): void;
  restored(meta: SnapshotMeta, state: Pick<AppliedState, 'applied_index' | 'state_hash' | 'content_hash'>): void;
}

export interface NodeEnvironment {
  clock: Clock;
  storage: LogStorage<LogPayload>;
  transport: PeerTransport;
  /** A fresh 32-bit seed for the random values of one write (the master fixes it before the write is logged). */
  randomSeed(): number;
  /** Storage failed and the node stopped using it: a node process exits here (and recovers on restart). */
  fatal(error: unknown): void;
  observer?: NodeObserver;
  /** Where SQL reads and write trials run (sql-executor/); absent, inline on the node's thread. */
  sqlExecutor?(state: AppliedState): SqlExecutor;
}
