/**
 * The I/O shell around the pure replica: it owns the timers, the disk, the
 * network and the engine, and runs the replica's ready loop:
 *
 *   tick / message / proposal → replica → ready() → write (a master's appends leave now)
 *     → fsync → send messages → apply committed entries → answer waiting clients → advance()
 *
 * It is the only place where milliseconds become ticks and outbox messages
 * become HTTP requests.
 */
import { randomInt } from 'node:crypto';
import type { Command } from '../../database/commands';
import type { DatabaseService, NodeStatus } from '../../handlers/service';
import type { ClusterConfig, NodeConfig } from '../../utils/config';
import { DdbError, errorFromBody } from '../../utils/errors';
import type { Logger } from '../../utils/logger';
import type { Entry, HardState, Snapshot } from '../replication/messages';
import { splitAtSync } from '../replication/sync-policy';
import { Replica, type Message } from '../replication/replica';
import { openStorage, type LogStorage, type PreparedSnapshot } from '../replication/storage';
import { HttpTransport } from '../replication/transport';
import { ForwardQueue } from './forward-queue';
import { SharedReadIndex } from './shared-read-index';
import { AppliedState, type LogPayload } from './applied-state';
import { TickClock, timingFor, type Timing } from './ticks';
import { AppliedIndexWaiters, ProposalWaiters, noMaster } from './waiters';
import { buildStatus } from './node-status';
import { readinessOf, type Readiness } from './readiness';
import { ChangeSignal } from './change-signal';

export interface NodeOptions {
  config: ClusterConfig;
  self: NodeConfig;
  /** Where term, vote, log and snapshots live; null keeps nothing on disk (`--in-memory`). */
  data_dir: string | null;
  logger: Logger;
}

/** Limits of the replica, named with their unit last. */
const ENTRIES_PER_APPEND_MAX = 512;
const INFLIGHT_APPENDS_MAX = 4;
const PROPOSALS_PENDING_MAX = 20_000;
const READ_REQUESTS_MAX = 10_000;

/**
 * What the replica holds in place of a snapshot image. The image (the whole
 * database) stays in storage, not in memory twice; the node loads it only to
 * send it to a slave that needs it (withSnapshotImages).
 */
const IMAGE_IN_STORAGE = new Uint8Array(0);

export class DdbNode implements DatabaseService {
  readonly timing: Timing;
  private readonly machine = new AppliedState();
  private readonly replica: Replica<LogPayload>;
  private readonly storage: LogStorage<LogPayload>;
  private readonly transport: HttpTransport<Message<LogPayload>>;
  private readonly forwarded: ForwardQueue;
  private readonly remoteReads: SharedReadIndex;
  private readonly proposals = new ProposalWaiters();
  private readonly appliedWaiters = new AppliedIndexWaiters();
  private readonly readStates = new Map<string, (index: number) => void>();
  /** A compaction's snapshot is being written off the event loop (one at a time). */
  private compacting = false;
  /** That snapshot, durable beside the current one, waiting for installPrepared(). */
  private prepared: PreparedSnapshot | null = null;
  private readonly changes = new ChangeSignal();
  private readonly urls = new Map<number, string>();
  private ticker: NodeJS.Timeout | null = null;
  private readyScheduled = false;
  private readyRunning = false;
  /** The hard state last given to storage: splitAtSync compares a pass's with it. */
  private hardState: HardState;
  private lastAppliedTerm = 0;
  private loggedRole = 'slave';
  private readCounter = 0;
  private stopped = false;

  constructor(private readonly options: NodeOptions) {
    const { config, self } = options;
    this.timing = timingFor(config);
    for (const node of config.nodes) this.urls.set(node.id, node.url.replace(/\/$/, ''));
    this.storage = openStorage<LogPayload>(options.data_dir);
    const recovered = this.storage.recovered();
    this.hardState = recovered.hard_state;
    if (recovered.snapshot !== null) this.restoreSnapshot(recovered.snapshot);
    const restored = { ...recovered, snapshot: recovered.snapshot && { meta: recovered.snapshot.meta, data: IMAGE_IN_STORAGE } };
    this.storage.releaseRecovered();
    this.replica = new Replica<LogPayload>(
      {
        id: self.id,
        peers: config.nodes.map((node) => node.id),
        heartbeat_ticks: this.timing.heartbeat_ticks,
        failover_timeout_ticks: this.timing.failover_timeout_ticks,
        election_stagger_ticks: this.timing.election_stagger_ticks,
        entries_per_append_max: ENTRIES_PER_APPEND_MAX,
        inflight_appends_max: INFLIGHT_APPENDS_MAX,
        proposals_pending_max: PROPOSALS_PENDING_MAX,
        read_requests_max: READ_REQUESTS_MAX,
      },
      restored,
    );
    const peerUrls = new Map([...this.urls].filter(([id]) => id !== self.id));
    const host = new URL(self.url).hostname;
    const local_address = /^[0-9.]+$/.test(host) ? host : undefined;
    this.transport = new HttpTransport<Message<LogPayload>>(peerUrls, (messages) => this.receive(messages), options.logger, local_address);
    this.forwarded = new ForwardQueue((url, commands, timeout_ms) => this.transport.forwardWrites(url, commands, timeout_ms));
    this.remoteReads = new SharedReadIndex((url, timeout_ms) => this.transport.readIndex(url, timeout_ms));
  }

  get engine(): AppliedState['engine'] {
    return this.machine.engine;
  }

  get id(): number {
    return this.options.self.id;
  }

  start(): void {
    // A stall's worth of ticks, bounded: at least a fail-over timeout, so a stalled
    // node's monitor and check-quorum expire at once, and never thousands of ticks.
    const max_ticks = this.timing.failover_timeout_ticks * this.options.config.nodes.length;
    const clock = new TickClock(this.timing.tick_ms, max_ticks, performance.now());
    this.ticker = setInterval(() => {
      const ticks = clock.due(performance.now());
      if (ticks === 0) return;
      for (let tick = 0; tick < ticks; tick += 1) this.replica.tick();
      this.scheduleReady();
    }, this.timing.tick_ms);
    this.scheduleReady();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker !== null) clearInterval(this.ticker);
    this.proposals.failAll('the node is shutting down');
    this.transport.close();
    this.storage.close();
    this.machine.close();
  }

  // ---- peer input -------------------------------------------------------

  receive(messages: Message<LogPayload>[]): void {
    if (this.stopped) return;
    for (const message of messages) this.replica.step(message);
    this.scheduleReady();
  }

  /**
   * A peer's request: steps its messages, and resolves with this node's answers
   * to that peer once the next ready pass has persisted and produced them, so
   * they travel back in the response (see transport.ts).
   */
  receiveAndReply(messages: Message<LogPayload>[]): Promise<Message<LogPayload>[]> {
    // Stepped first: the replica throws on a message from an unknown node, and
    // then no reply is left open. The ready pass runs later (setImmediate), so
    // the reply is open before it.
    this.receive(messages);
    const from = messages[0]?.from;
    if (this.stopped || from === undefined) return Promise.resolve([]);
    return this.transport.openReply(from);
  }

  // ---- the ready loop ---------------------------------------------------

  private scheduleReady(): void {
    if (this.readyScheduled || this.stopped) return;
    this.readyScheduled = true;
    setImmediate(() => this.processReady());
  }

  /** Runs ready passes until none is due; one run at a time, since a pass awaits its fsync. */
  private processReady(): void {
    this.readyScheduled = false;
    if (this.stopped || this.readyRunning) return;
    this.readyRunning = true;
    this.readyPasses().then(
      () => {
        this.readyRunning = false;
        if (this.stopped) return;
        // Any reply still open is for a request that needed no answer.
        this.transport.closeReplies(Infinity);
        if (this.replica.hasReady() || this.prepared !== null) this.scheduleReady();
      },
      (error: unknown) => this.failed(error),
    );
  }

  /**
   * Each pass: persist, send, apply, answer. A master's appends leave before
   * the fsync and the event loop serves clients while it runs (splitAtSync);
   * everything else waits for it. Messages stepped meanwhile go to the next
   * pass; under steady load a run goes on pass after pass, so what must not
   * wait for the run to end (answers, compaction) happens after each pass.
   * Between passes the loop also installs a compaction's snapshot once it is
   * prepared (compactIfLong), awaited like an fsync.
   */
  private async readyPasses(): Promise<void> {
    while (!this.stopped && (this.prepared !== null || this.replica.hasReady())) {
      if (this.prepared !== null) {
        const prepared = this.prepared;
        this.prepared = null;
        await this.installPrepared(prepared);
        continue;
      }
      const ready = this.replica.ready();
      // Requests stepped before ready() have their answers in it.
      const answered = this.transport.replyMark();
      if (ready.snapshot !== null) this.installSnapshot(ready.snapshot);
      let messages = ready.messages;
      if (this.storage.write({ hard_state: ready.hard_state, entries: ready.entries })) {
        const { before, after } = splitAtSync(messages, this.hardState, ready.hard_state);
        if (before.length > 0) this.transport.send(before);
        await this.storage.sync();
        if (this.stopped) return;
        messages = after;
      }
      if (ready.hard_state !== null) this.hardState = ready.hard_state;
      if (messages.length > 0) this.transport.send(this.withSnapshotImages(messages));
      for (const entry of ready.committed) this.applyEntry(entry);
      for (const state of ready.read_states) this.readStates.get(state.request_id)?.(state.index);
      this.replica.advance();
      this.afterPass(answered);
    }
  }

  private afterPass(answered: number): void {
    this.transport.closeReplies(answered);
    this.appliedWaiters.applied(this.machine.applied_index);
    this.compactIfLong();
    this.logRoleChange();
    this.changes.notify();
  }

  /**
   * A pass threw: above all a failed write or fsync, after which the files are
   * in an unknown state. The process exits (as an uncaught error) and recovers on restart.
   */
  private failed(error: unknown): void {
    if (this.stopped) return;
    this.options.logger.error('ready loop failed; exiting', { error: (error as Error)?.stack ?? String(error) });
    process.nextTick(() => {
      throw error;
    });
  }

  private withSnapshotImages(messages: Message<LogPayload>[]): Message<LogPayload>[] {
    let loaded: Snapshot | null = null;
    return messages.map((message) => {
      if (message.type !== 'install_snapshot' || message.snapshot.data !== IMAGE_IN_STORAGE) return message;
      loaded ??= this.storage.loadSnapshot();
      if (loaded?.meta.last_index !== message.snapshot.meta.last_index) {
        throw new Error(`storage holds the snapshot at ${String(loaded?.meta.last_index)}, the replica sends ${message.snapshot.meta.last_index}`);
      }
      return { ...message, snapshot: loaded };
    });
  }

  /** Compared with the role last logged, not the role at the start of the pass: ticks change roles too. */
  private logRoleChange(): void {
    const status = this.replica.status();
    if (status.role === this.loggedRole) return;
    const details = { term: status.term, master_id: status.master_id, commit_index: status.commit_index, reason: status.role_reason };
    this.options.logger.warn(`role ${this.loggedRole} → ${status.role}: ${status.role_reason}`, details);
    this.loggedRole = status.role;
  }

  private applyEntry(entry: Entry<LogPayload>): void {
    if (entry.index <= this.machine.applied_index) return;
    const result = this.machine.apply(entry);
    this.lastAppliedTerm = entry.term;
    this.proposals.applied(entry.index, entry.term, result);
  }

  private installSnapshot(snapshot: Snapshot): void {
    this.storage.saveSnapshot(snapshot);
    this.restoreSnapshot(snapshot);
    this.proposals.skippedTo(snapshot.meta.last_index);
    this.options.logger.info('installed snapshot from the master', { last_index: snapshot.meta.last_index });
  }

  private restoreSnapshot(snapshot: Snapshot): void {
    this.machine.restore(snapshot.data);
    this.lastAppliedTerm = snapshot.meta.last_term;
  }

  /**
   * Keeps the in-memory log under log_entries_max by snapshotting the applied
   * state. The image is taken now, but written and fsynced off the event loop
   * (a million small rows make ~36 MB, ~70 ms of disk time here) while the node
   * goes on; installPrepared() puts it in place and compacts between passes.
   */
  private compactIfLong(): void {
    if (this.compacting) return;
    const status = this.replica.status();
    const applied = this.machine.applied_index;
    if (status.last_index - status.first_index + 1 <= this.options.config.log_entries_max) return;
    if (applied < status.first_index) return;
    this.compacting = true;
    // In parts: the database images go to disk without being copied into one buffer.
    const snapshot = { meta: { last_index: applied, last_term: this.lastAppliedTerm }, data: this.machine.snapshotParts() };
    this.storage.prepareSnapshot(snapshot).then(
      (prepared) => {
        this.prepared = prepared;
        // The ready loop installs it between passes (a pass may be awaiting the log's fsync).
        this.scheduleReady();
      },
      (error: unknown) => this.failed(error),
    );
  }

  /**
   * Puts the prepared snapshot in place and compacts the log up to it. Awaited
   * by the ready loop between passes, like an fsync: the event loop goes on
   * (messages are stepped, requests parsed) and the next pass starts after it.
   */
  private async installPrepared(prepared: PreparedSnapshot): Promise<void> {
    const installed = await this.storage.installPrepared(prepared);
    this.compacting = false;
    // Not installed when a snapshot from the master overtook it: then there is nothing to compact.
    if (!installed || this.stopped) return;
    this.replica.compact(prepared.meta.last_index, IMAGE_IN_STORAGE);
    this.options.logger.debug('compacted the log', { last_index: prepared.meta.last_index });
  }

  // ---- writes -----------------------------------------------------------

  writeTimeoutMs(): number {
    return this.options.config.write_timeout_ms;
  }

  private deadline(): number {
    return Date.now() + this.writeTimeoutMs();
  }

  async write(command: Command): Promise<unknown> {
    const deadline = this.deadline();
    for (;;) {
      const master = await this.awaitMaster(deadline);
      if (master === this.id) return this.proposeLocal(command, deadline);
      const answer = await this.forwardWrite(master, command, deadline);
      if (answer !== 'retry') return answer.value;
    }
  }

  async writeAsMaster(command: Command): Promise<unknown> {
    const deadline = this.deadline();
    const master = await this.awaitMaster(deadline);
    if (master !== this.id) {
      const url = this.urls.get(master) as string;
      throw new DdbError('NOT_MASTER', `node ${this.id} is a slave; this operation runs on the master, node ${master}`, { master: url });
    }
    return this.proposeLocal(command, deadline);
  }

  /** Proposes on this node, which must be the master; resolves with the engine's result. */
  async proposeLocal(command: Command, deadline: number): Promise<unknown> {
    const context = { timestamp_ms: Date.now(), seed: randomInt(0, 2 ** 32 - 1) };
    const proposal = this.replica.propose({ command, context });
    if (!proposal.ok) {
      if (proposal.reason === 'busy') throw noMaster('the master has too many uncommitted writes; retry');
      throw new DdbError('NOT_MASTER', `node ${this.id} is no longer the master`, { master: this.masterUrl() });
    }
    this.scheduleReady();
    const result = await this.proposals.wait(proposal.index, proposal.term, Math.max(1, deadline - Date.now()));
    if (result === null) throw new Error(`proposal ${proposal.index} applied as a no-op`);
    if (!result.ok) throw errorFromBody(result.error);
    return result.value;
  }

  private async forwardWrite(master: number, command: Command, deadline: number): Promise<{ value: unknown } | 'retry'> {
    const url = this.urls.get(master) as string;
    let answer;
    try {
      answer = await this.forwarded.forward(url, command, deadline);
    } catch (error) {
      // Refused: the request never reached the master, so it is safe to retry
      // once another master is known. Anything else may have been applied.
      if ((error as { code?: string }).code === 'ECONNREFUSED') {
        await this.awaitMasterOtherThan(master, deadline);
        return 'retry';
      }
      throw noMaster(`lost contact with the master (node ${master}); the write may or may not have been applied`);
    }
    if (answer.ok) return { value: answer.value };
    if (answer.error.code === 'NOT_MASTER') {
      await this.awaitMasterOtherThan(master, deadline);
      return 'retry';
    }
    throw errorFromBody(answer.error);
  }

  // ---- reads ------------------------------------------------------------

  async readBarrier(consistency: 'local' | 'strong'): Promise<void> {
    if (consistency === 'local') return;
    const deadline = this.deadline();
    for (;;) {
      const master = await this.awaitMaster(deadline);
      const index = master === this.id ? await this.confirmReadIndex(deadline) : await this.remoteReadIndex(master, deadline);
      if (index === 'retry') continue;
      await this.withDeadline(this.appliedWaiters.waitFor(index, this.machine.applied_index), deadline, 'read');
      return;
    }
  }

  /** ReadIndex on the master: the commit index once a majority confirmed this node is still master. */
  async confirmReadIndex(deadline: number): Promise<number | 'retry'> {
    for (;;) {
      if (this.currentMaster() !== this.id) return 'retry';
      this.readCounter += 1;
      const request_id = `${this.id}-${this.readCounter}`;
      const accepted = this.replica.readIndex(request_id);
      if (!accepted.ok) {
        if (accepted.reason === 'busy') throw noMaster('too many strong reads in flight; retry');
        // A new master must commit its first entry before it can answer reads.
        await this.changes.next(deadline);
        continue;
      }
      this.scheduleReady();
      const index = new Promise<number>((resolve) => this.readStates.set(request_id, resolve));
      try {
        return await this.withDeadline(index, deadline, 'read');
      } finally {
        this.readStates.delete(request_id);
      }
    }
  }

  private async remoteReadIndex(master: number, deadline: number): Promise<number | 'retry'> {
    const url = this.urls.get(master) as string;
    let answer;
    try {
      answer = await this.remoteReads.readIndex(url, deadline);
    } catch {
      await this.awaitMasterOtherThan(master, deadline);
      return 'retry';
    }
    if (answer.ok) return answer.index;
    if (answer.error.code === 'NOT_MASTER') {
      await this.awaitMasterOtherThan(master, deadline);
      return 'retry';
    }
    throw errorFromBody(answer.error);
  }

  // ---- waiting on the cluster ------------------------------------------

  private currentMaster(): number | null {
    return this.replica.masterId();
  }

  masterUrl(): string | null {
    const master = this.currentMaster();
    return master === null ? null : (this.urls.get(master) ?? null);
  }

  private async awaitMaster(deadline: number): Promise<number> {
    for (;;) {
      const master = this.currentMaster();
      if (master !== null) return master;
      await this.changes.next(deadline);
    }
  }

  private async awaitMasterOtherThan(previous: number, deadline: number): Promise<void> {
    while (this.currentMaster() === previous || this.currentMaster() === null) {
      await this.changes.next(deadline);
    }
  }

  private withDeadline<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
    return this.changes.race(promise, deadline, `${what} not confirmed by a majority in time`);
  }

  readiness(): Readiness {
    const replica = this.replica.status();
    const master = replica.peers.find((peer) => peer.id === replica.master_id);
    const ticks_ago = master?.last_contact_ticks_ago ?? null;
    return readinessOf({
      replica,
      applied_index: this.machine.applied_index,
      master_silent_ms: ticks_ago === null ? null : ticks_ago * this.timing.tick_ms,
      failover_timeout_ms: this.options.config.failover_timeout_ms,
    });
  }

  status(): NodeStatus {
    return buildStatus({
      self: this.options.self,
      urls: this.urls,
      replica: this.replica.status(),
      applied_index: this.machine.applied_index,
      state_hash: this.machine.state_hash,
      tick_ms: this.timing.tick_ms,
    });
  }
}
