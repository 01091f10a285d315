/**
 * The snapshot a master sends to slaves that fell behind its log, read from
 * storage and checksummed off the master's thread, then kept while it is
 * being sent.
 *
 * Storage holds the image (the replica names it IMAGE_IN_STORAGE). Read,
 * checked and hashed at once, a 1 GB image held the master's thread for
 * longer than a fail-over timeout: its slaves elected another master, which
 * then did the same when it came to send. So the first install_snapshot for
 * an image not yet loaded is parked while the file is read (off the thread)
 * and hashed a slice at a time between other work; when it is ready, the
 * latest parked message to each slave goes out with it (a stale one is
 * harmless: a slave ignores a message from an older term), and the replica's
 * own resends use it from then on.
 *
 * Storage holds only the latest snapshot, which may be newer than the one a
 * message names: a message built while a compaction was being installed
 * names the snapshot that compaction replaced. The newer one covers more of
 * the same log, so it goes instead (found by the node-level simulator).
 */
import type { Logger } from '../../utils/logger';
import type { InstallSnapshot, Snapshot } from '../replication/messages';
import { snapshotChecksumInSlices } from '../replication/peer-validation';
import { nextTurn, type Clock } from './clock';
import { droppedImage } from './large-garbage';

export interface OutgoingSnapshotParts {
  loadSnapshot(): Promise<Snapshot | null>;
  clock: Clock;
  logger: Logger;
  /** Sends messages whose images are in place. */
  send(messages: InstallSnapshot[]): void;
  /** Storage failed to read the image. */
  failed(error: unknown): void;
}

/** An image not sent for this long goes back to disk only (memory the size of the database). */
export const OUTGOING_SNAPSHOT_KEEP_MS = 30_000;

interface Loaded {
  snapshot: Snapshot;
  checksum: string;
  used_ms: number;
}

export class OutgoingSnapshot {
  private loaded: Loaded | null = null;
  private loading = false;
  /** The latest message to each slave that waits for the image, by slave id. */
  private readonly parked = new Map<number, InstallSnapshot>();
  private closed = false;

  constructor(private readonly parts: OutgoingSnapshotParts) {}

  /** The message with its image and checksum, or null when the image is being loaded: the message then goes when it is. */
  withImage(message: InstallSnapshot): InstallSnapshot | null {
    const loaded = this.loaded;
    if (loaded !== null && loaded.snapshot.meta.last_index >= message.snapshot.meta.last_index) {
      loaded.used_ms = this.parts.clock.now_ms();
      return { ...message, snapshot: loaded.snapshot, checksum: loaded.checksum };
    }
    this.parked.set(message.to, message);
    this.load();
    return null;
  }

  /** After each pass: an image not used for a while is dropped. */
  expire(): void {
    if (this.loaded !== null && this.parts.clock.now_ms() - this.loaded.used_ms > OUTGOING_SNAPSHOT_KEEP_MS) this.drop();
  }

  close(): void {
    this.closed = true;
    this.parked.clear();
    this.drop();
  }

  private drop(): void {
    if (this.loaded !== null) droppedImage(this.loaded.snapshot.data.byteLength);
    this.loaded = null;
  }

  private load(): void {
    if (this.loading || this.closed) return;
    this.loading = true;
    const started_ms = this.parts.clock.now_ms();
    this.parts
      .loadSnapshot()
      .then(async (snapshot) => (snapshot === null ? null : { snapshot, checksum: await snapshotChecksumInSlices(snapshot.data, () => nextTurn(this.parts.clock)) }))
      .then(
        (ready) => {
          this.loading = false;
          if (this.closed) return;
          if (ready === null) {
            this.parts.logger.error('no snapshot in storage to send to the slaves that need one');
            this.parked.clear();
            return;
          }
          this.drop();
          this.loaded = { ...ready, used_ms: this.parts.clock.now_ms() };
          this.parts.logger.debug('snapshot loaded to send', { last_index: ready.snapshot.meta.last_index, bytes: ready.snapshot.data.byteLength, ms: this.parts.clock.now_ms() - started_ms });
          this.sendParked();
        },
        (error: unknown) => {
          this.loading = false;
          this.parked.clear();
          if (!this.closed) this.parts.failed(error);
        },
      );
  }

  /**
   * Parked messages go now, with the image just read. One that names a newer
   * snapshot than storage held is dropped: the replica sends it again, and
   * that loads again (storage is written before the replica compacts, so
   * that means a compaction was installed meanwhile).
   */
  private sendParked(): void {
    const loaded = this.loaded as Loaded;
    const ready: InstallSnapshot[] = [];
    for (const message of this.parked.values()) {
      if (loaded.snapshot.meta.last_index < message.snapshot.meta.last_index) continue;
      ready.push({ ...message, snapshot: loaded.snapshot, checksum: loaded.checksum });
    }
    this.parked.clear();
    if (ready.length > 0) this.parts.send(ready);
  }
}
