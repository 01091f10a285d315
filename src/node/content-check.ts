/**
 * Divergence cannot hide: a slave proves, about once a second, that its data
 * is the master's, and repairs itself from the master's image when it is not.
 *
 * The entry chain (state_hash) shows that two nodes hold the same log; the
 * content chain (content_hash, applied-state.ts) shows that applying it did
 * the same thing on both: the same rows changed, the same answers, the same
 * errors. A connection setting a client slipped past the sandbox, a limit set
 * differently on one node, a bug in one build: each shows as a content hash
 * that differs from the master's at the same index.
 *
 *   slave  → master: checkpoint {index, state_hash, content_hash}  (its applied index)
 *   master → slave:  its own hashes at that index (it remembers the last HISTORY_LENGTH)
 *   on a difference, both log it as an error, and the slave asks for a repair:
 *   master → slave:  install_snapshot {repair: true}: its image now, at its applied index J
 *
 * The slave restores the image without stepping its replica (its log is right;
 * its data is not): when J is at or past its own applied index A, the entries
 * up to J are then skipped as they come; when J is behind A, it applies again
 * the entries J+1…A its log still holds. Either way it ends with the master's
 * data, continuing the master's chains.
 *
 * Only the master is trusted: a master whose own data is the odd one out
 * would repair its slaves to its state (noted in the README).
 */
import type { Logger } from '../../utils/logger';
import type { Entry, InstallSnapshot, ReplicaStatus } from '../replication/messages';
import { snapshotChecksumInSlices } from '../replication/peer-validation';
import type { OutgoingInstall } from '../replication/snapshot-stream';
import type { AppliedState, LogPayload } from './applied-state';
import { nextTurn, type Clock, type Timer } from './clock';
import { bytesOf } from './large-garbage';
import type { AppliedHashes, CheckpointAnswer, CheckpointRequest, PeerTransport, RepairAnswer } from './peer-transport';

/** How many applied indexes the master remembers hashes for: a slave this far behind checks again later. */
export const HISTORY_LENGTH = 16_384;
/** A slave checks this often (it has to have applied something new since). */
export const CHECK_INTERVAL_MS = 1000;
/** A master sends one slave an image at most this often; a slave waits this long before it asks again, doubling up to REPAIR_BACKOFF_MAX_MS. */
export const REPAIR_INTERVAL_MS = 10_000;
export const REPAIR_BACKOFF_MAX_MS = 10 * 60_000;
/** A slave's last comparison counts for the master's majority rule this long. */
export const CHECK_FRESH_MS = 30_000;

/** The hashes of the last HISTORY_LENGTH applied indexes, in a ring. */
export class HashHistory {
  private readonly indexes = new Array<number>(HISTORY_LENGTH).fill(-1);
  private readonly hashes = new Array<AppliedHashes | null>(HISTORY_LENGTH).fill(null);

  record(index: number, hashes: AppliedHashes): void {
    const slot = index % HISTORY_LENGTH;
    this.indexes[slot] = index;
    this.hashes[slot] = hashes;
  }

  at(index: number): AppliedHashes | null {
    const slot = index % HISTORY_LENGTH;
    return this.indexes[slot] === index ? this.hashes[slot] : null;
  }

  clear(): void {
    this.indexes.fill(-1);
    this.hashes.fill(null);
  }
}

/** What /status shows of the checks. */
export interface ContentCheckStatus {
  /** The last index at which this slave's hashes were found equal to the master's (0: none yet). */
  checked_index: number;
  /** The index at which this node's data was found to differ from the master's, until it is repaired. */
  diverged_index: number | null;
  /**
   * On a master: repairs it refused because fewer than a majority of the
   * cluster agreed with its data (then it may be the odd one out itself).
   */
  repairs_refused: number;
  /** How often this node's data was found to differ, and how often it was repaired. */
  divergences: number;
  repairs: number;
}

export interface ContentCheckParts {
  self_id: number;
  machine: AppliedState;
  clock: Clock;
  transport: PeerTransport;
  logger: Logger;
  request_timeout_ms: number;
  replicaStatus(): ReplicaStatus;
  /** Entries this node applied that its log still holds, to apply again after an older image. */
  appliedEntries(from: number, to: number): Entry<LogPayload>[] | null;
  /** The term of the entry at the applied index (the image's last_term). */
  appliedTerm(): number;
  /** The applied state was replaced: the executor, compaction and the simulator's checker follow. */
  restored(meta: { last_index: number; last_term: number }): void;
}

export class ContentCheck {
  private readonly history = new HashHistory();
  private timer: Timer | null = null;
  private checking = false;
  private readonly status_: ContentCheckStatus = { checked_index: 0, diverged_index: null, divergences: 0, repairs: 0, repairs_refused: 0 };
  /** When this slave may ask for a repair next, and how long it waits after that. */
  private repair_next_ms = -Infinity;
  private repair_backoff_ms = REPAIR_INTERVAL_MS;
  private last_repair_ms = -Infinity;
  /** When this master last sent an image to each slave. */
  private readonly repair_sent_ms = new Map<number, number>();
  /** On a master: each slave's last comparison with its data, and when. */
  private readonly compared_with = new Map<number, { index: number; same: boolean; at_ms: number }>();

  constructor(private readonly parts: ContentCheckParts) {
    this.recordCurrent();
  }

  start(): void {
    this.timer = this.parts.clock.after(CHECK_INTERVAL_MS, () => this.tick());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  status(): ContentCheckStatus {
    return { ...this.status_ };
  }

  /** The node restored an image (the master's): what it remembered of its own data no longer holds, nor does a divergence. */
  restored(): void {
    this.history.clear();
    this.recordCurrent();
    this.status_.diverged_index = null;
  }

  /** The node applied an entry: its hashes at that index. */
  recordCurrent(): void {
    const { machine } = this.parts;
    this.history.record(machine.applied_index, { state_hash: machine.state_hash, content_hash: machine.content_hash });
  }

  // ---- the master's side -----------------------------------------------------

  answerCheckpoint(from: number, request: CheckpointRequest): CheckpointAnswer {
    const status = this.parts.replicaStatus();
    if (status.role !== 'master') return { ok: false, error: { code: 'NOT_MASTER', message: `node ${this.parts.self_id} is not the master` } };
    // A node that knows its own data differed (it became master before it was repaired) vouches for nothing.
    if (this.status_.diverged_index !== null) return { ok: true, hashes: null };
    const mine = this.history.at(request.index);
    if (mine === null) return { ok: true, hashes: null };
    const same = mine.state_hash === request.state_hash && mine.content_hash === request.content_hash;
    const before = this.compared_with.get(from);
    this.compared_with.set(from, { index: request.index, same, at_ms: this.parts.clock.now_ms() });
    if (!same && (before === undefined || before.same)) {
      this.parts.logger.error(`node ${from}'s data differs from this master's at index ${request.index}`, { node: from, index: request.index, master: mine, slave: { state_hash: request.state_hash, content_hash: request.content_hash } });
    }
    return { ok: true, hashes: mine };
  }

  /**
   * Sends this master's image to `from` as a repair: only to a slave whose
   * data this master found different lately, at most once per
   * REPAIR_INTERVAL_MS, and only while a majority of the cluster (this master
   * included) lately found its data the same. Without that rule a master
   * whose own data had lost a row would "repair" the row off every slave.
   */
  answerRepair(from: number): RepairAnswer {
    const status = this.parts.replicaStatus();
    if (status.role !== 'master') return { ok: false, error: { code: 'NOT_MASTER', message: `node ${this.parts.self_id} is not the master` } };
    const now_ms = this.parts.clock.now_ms();
    const fresh = (check: { at_ms: number } | undefined) => check !== undefined && now_ms - check.at_ms <= CHECK_FRESH_MS;
    const theirs = this.compared_with.get(from);
    if (!fresh(theirs) || theirs?.same !== false || this.status_.diverged_index !== null) {
      return { ok: false, error: { code: 'NOT_READY', message: `this master has not lately found node ${from}'s data different from its own` } };
    }
    const members = status.peers.length + 1;
    const agreeing = 1 + [...this.compared_with.values()].filter((check) => fresh(check) && check.same).length;
    if (agreeing < Math.floor(members / 2) + 1) {
      this.status_.repairs_refused += 1;
      this.parts.logger.error(`refused to repair node ${from}: only ${agreeing} of ${members} nodes lately agreed with this master's data, which may be the odd one out`, { node: from, agreeing, members });
      return { ok: false, error: { code: 'NOT_READY', message: `only ${agreeing} of ${members} nodes agree with this master's data` } };
    }
    if (now_ms - (this.repair_sent_ms.get(from) ?? -Infinity) < REPAIR_INTERVAL_MS) {
      return { ok: false, error: { code: 'NOT_READY', message: `an image went to node ${from} less than ${REPAIR_INTERVAL_MS} ms ago` } };
    }
    this.repair_sent_ms.set(from, now_ms);
    const { machine } = this.parts;
    // The engine's pieces as they are (one copy of the data, not two), hashed a slice at a time between other work.
    const image = machine.snapshotParts();
    const meta = { last_index: machine.applied_index, last_term: this.parts.appliedTerm() };
    const live_ids = [this.parts.self_id, ...status.peers.filter((peer) => peer.alive).map((peer) => peer.id)];
    const bytes = bytesOf(image);
    this.parts.logger.warn(`sending this master's image to node ${from} to repair its data`, { node: from, index: meta.last_index, bytes });
    void snapshotChecksumInSlices(image, () => nextTurn(this.parts.clock)).then((checksum) => {
      if (this.timer === null) return; // stopped meanwhile
      const message: OutgoingInstall = { type: 'install_snapshot', from: this.parts.self_id, to: from, term: status.term, snapshot: { meta, data: image }, checksum, live_ids, read_context: 0, repair: true };
      this.parts.transport.sendRepair(message);
    });
    return { ok: true, index: meta.last_index };
  }

  // ---- the slave's side ------------------------------------------------------

  private tick(): void {
    this.timer = this.parts.clock.after(CHECK_INTERVAL_MS, () => this.tick());
    const status = this.parts.replicaStatus();
    if (status.role !== 'slave' || status.master_id === null || this.checking) return;
    const master_id = status.master_id;
    if (this.status_.diverged_index !== null) {
      this.askForRepair(master_id);
      return;
    }
    const { machine } = this.parts;
    const index = machine.applied_index;
    if (index === 0 || index === this.status_.checked_index) return;
    const request: CheckpointRequest = { index, state_hash: machine.state_hash, content_hash: machine.content_hash };
    this.checking = true;
    this.parts.transport.checkpoint(master_id, request, this.parts.request_timeout_ms).then(
      (answer) => {
        this.checking = false;
        if (answer.ok && answer.hashes !== null) this.compared(index, request, answer.hashes, master_id);
      },
      () => {
        this.checking = false; // unreachable, or no answer: the next round asks again
      },
    );
  }

  private compared(index: number, mine: AppliedHashes, masters: AppliedHashes, master_id: number): void {
    if (mine.state_hash === masters.state_hash && mine.content_hash === masters.content_hash) {
      if (this.status_.diverged_index !== null) return;
      this.status_.checked_index = Math.max(this.status_.checked_index, index);
      // Healthy for a while after the last repair: a new difference is asked about at once again.
      if (this.parts.clock.now_ms() - this.last_repair_ms > REPAIR_BACKOFF_MAX_MS) this.repair_backoff_ms = REPAIR_INTERVAL_MS;
      return;
    }
    if (this.status_.diverged_index !== null) return;
    this.status_.diverged_index = index;
    this.status_.divergences += 1;
    const what = mine.state_hash === masters.state_hash ? 'data' : 'log';
    this.parts.logger.error(`DIVERGED: this node's ${what} differs from the master's (node ${master_id}) at index ${index}; repairing from the master's image`, {
      index,
      master_id,
      mine,
      masters,
    });
    this.askForRepair(master_id);
  }

  /**
   * Asks at most once per back-off, which doubles with every request up to
   * REPAIR_BACKOFF_MAX_MS: an image that takes long to send is not asked for
   * again while it travels, and a lasting cause (a limit set otherwise on
   * this node) costs the master an image every ten minutes at most.
   */
  private askForRepair(master_id: number): void {
    const now_ms = this.parts.clock.now_ms();
    if (now_ms < this.repair_next_ms) return;
    this.repair_next_ms = now_ms + this.repair_backoff_ms;
    this.repair_backoff_ms = Math.min(REPAIR_BACKOFF_MAX_MS, 2 * this.repair_backoff_ms);
    this.parts.transport.requestRepair(master_id, this.parts.request_timeout_ms).then(
      (answer) => {
        if (!answer.ok) this.parts.logger.warn('the master did not send a repair image; asking again later', { master_id, error: answer.error });
      },
      () => undefined, // asked again after REPAIR_INTERVAL_MS
    );
  }

  /**
   * A repair image from the master (already checksummed by the channel).
   * Taken only while this node knows its data differs, from the master of
   * its current term; anything else is dropped.
   */
  receivedRepair(message: InstallSnapshot): void {
    const status = this.parts.replicaStatus();
    if (this.status_.diverged_index === null || status.role !== 'slave' || message.from !== status.master_id || message.term !== status.term) {
      this.parts.logger.debug('dropped a repair image nobody asked for', { from: message.from, term: message.term });
      return;
    }
    const { machine } = this.parts;
    const diverged_index = this.status_.diverged_index;
    const image_index = message.snapshot.meta.last_index;
    const applied = machine.applied_index;
    const replay = image_index >= applied ? [] : this.parts.appliedEntries(image_index + 1, applied);
    if (replay === null) {
      this.parts.logger.warn('a repair image older than what this node applied and its log still holds; asking again', { image_index, applied });
      this.repair_next_ms = -Infinity;
      return;
    }
    try {
      machine.restore(message.snapshot.data, image_index);
    } catch (error) {
      this.parts.logger.error('a repair image from the master does not load; asking again later', { image_index, error: (error as Error).message });
      return;
    }
    this.restored();
    for (const entry of replay) {
      machine.apply(entry);
      this.recordCurrent();
    }
    const last = replay.at(-1);
    this.parts.restored(last === undefined ? message.snapshot.meta : { last_index: last.index, last_term: last.term });
    this.status_.repairs += 1;
    this.last_repair_ms = this.parts.clock.now_ms();
    this.parts.logger.warn(`repaired: this node's data is the master's image at index ${image_index}`, { diverged_index, image_index, replayed: replay.length });
  }
}
