/**
 * Keeps the in-memory log under log_entries_max by snapshotting the applied
 * state. The image is taken on the event loop, then written and fsynced off
 * it (a million small rows make ~36 MB, ~70 ms of disk time here) while the
 * node goes on; the ready loop installs it between two passes, as it awaits
 * an fsync, and the replica drops the log up to it. One compaction at a time.
 */
import { bytesOf, droppedImage } from './large-garbage';
import type { Logger } from '../../utils/logger';
import type { Replica } from '../replication/replica';
import type { LogStorage, PreparedSnapshot } from '../replication/storage';
import type { AppliedState, LogPayload } from './applied-state';
import type { Done } from './ready-loop';

/**
 * What the replica holds in place of a snapshot image. The image (the whole
 * database) stays in storage, not in memory twice; the node loads it only to
 * send it to a slave that needs it.
 */
export const IMAGE_IN_STORAGE = new Uint8Array(0);

export interface CompactionParts {
  replica: Replica<LogPayload>;
  storage: LogStorage<LogPayload>;
  machine: AppliedState;
  log_entries_max: number;
  logger: Logger;
  /** The prepared snapshot is ready to install: the ready loop should run. */
  wake(): void;
  failed(error: unknown): void;
}

export class Compaction {
  /** A snapshot is being written off the event loop, or waits to be installed. */
  private busy = false;
  /** That snapshot, durable beside the current one, waiting for a moment between passes. */
  private prepared: PreparedSnapshot | null = null;
  /** The term of the last entry applied, which a snapshot taken now records. */
  last_applied_term = 0;

  constructor(private readonly parts: CompactionParts) {}

  /** After each pass: starts a compaction when the log is over its limit. */
  maybeStart(): void {
    if (this.busy) return;
    const { replica, machine, storage } = this.parts;
    const status = replica.status();
    const applied_index = machine.applied_index;
    if (status.last_index - status.first_index + 1 <= this.parts.log_entries_max) return;
    if (applied_index < status.first_index) return;
    // A repair image put the data ahead of the log (content-check.ts): compact once the log has caught up to it.
    if (applied_index > status.applied_index) return;
    this.busy = true;
    // In parts: the database images go to disk without being copied into one buffer.
    const snapshot = { meta: { last_index: applied_index, last_term: this.last_applied_term }, data: machine.snapshotParts() };
    const bytes = bytesOf(snapshot.data);
    storage.prepareSnapshot(snapshot).then(
      (prepared) => {
        droppedImage(bytes); // on disk now
        this.prepared = prepared;
        this.parts.wake();
      },
      (error: unknown) => this.parts.failed(error),
    );
  }

  /** The install, for the ready loop to run between passes; null when nothing is prepared. */
  takeInstall(): ((done: Done) => void) | null {
    const prepared = this.prepared;
    if (prepared === null) return null;
    this.prepared = null;
    return (done) => {
      this.parts.storage.installPrepared(prepared).then(
        (installed) => {
          this.busy = false;
          // Not installed when a snapshot from the master overtook it: then there is nothing to compact.
          if (installed) {
            this.parts.replica.compact(prepared.meta.last_index, IMAGE_IN_STORAGE);
            this.parts.logger.debug('compacted the log', { last_index: prepared.meta.last_index });
          }
          done(null);
        },
        (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
      );
    };
  }
}
