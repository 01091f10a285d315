/**
 * A ddb node: the pure replica, the engine it applies to, and the shell
 * around them, over an environment it is given (node-environment.ts):
 * storage, the peer transport, a clock and a source of seeds. A node process
 * gives it a real disk, HTTP and timers (create-node.ts); the simulator gives
 * it simulated ones and runs this very code.
 *
 *   tick / message / proposal → replica → ready loop (ready-loop.ts):
 *     persist → fsync → send → apply → answer → compact (compaction.ts)
 *   writes: write-path.ts; strong reads: read-path.ts
 *
 * It is the only place where milliseconds become ticks (ticks.ts).
 */
import type { Command, SqlParams } from '../../database/commands';
import type { Caller, DatabaseService, NodeStatus } from '../../handlers/service';
import type { ClusterConfig, NodeConfig } from '../../utils/config';
import type { Logger } from '../../utils/logger';
import type { Entry, InstallSnapshot, Message, ReadState, ReplicaStatus, Snapshot, SnapshotMeta } from '../replication/messages';
import { snapshotChecksum } from '../replication/peer-validation';
import { Replica } from '../replication/replica';
import { AppliedState, type DataCheckSettings, type LogPayload, type PreparedState } from './applied-state';
import { ApplyGate } from './apply-gate';
import { ChangeSignal } from './change-signal';
import { ContentCheck } from './content-check';
import { Compaction, IMAGE_IN_STORAGE } from './compaction';
import { ForwardQueue } from './forward-queue';
import { MasterWait } from './master-wait';
import type { NodeEnvironment } from './node-environment';
import { buildStatus } from './node-status';
import type { CheckpointAnswer, CheckpointRequest, ForwardAnswer, ForwardedWrite, ReadIndexAnswer, RepairAnswer } from './peer-transport';
import { ReadPath } from './read-path';
import { readinessOf, type Readiness } from './readiness';
import { ReadyLoop, type ReadyOutlets } from './ready-loop';
import { SharedReadIndex } from './shared-read-index';
import { TickClock, timingFor, type Timing } from './ticks';
import { ProposalWaiters } from './waiters';
import { WritePath } from './write-path';
import { APPEND_BYTES_MAX, entryBytes } from './payload-bytes';
import { droppedImage } from './large-garbage';
import { OutgoingSnapshot } from './outgoing-snapshot';
import { InlineSqlExecutor } from './sql-executor/inline-executor';
import type { SqlExecutor } from './sql-executor/sql-executor';
import type { Timer } from './clock';

export interface NodeOptions {
  config: ClusterConfig;
  self: NodeConfig;
  logger: Logger;
  /** The master's check of a forwarded write's user; absent, every write is allowed (an open cluster). */
  authorize?: (caller: Caller, command: Command) => void;
  /** When the content chain takes in the data's hash (applied-state.ts); the simulator checks more often than the default. */
  data_check?: DataCheckSettings;
}

/** Limits of the replica, named with their unit last. */
export const REPLICA_LIMITS = {
  entries_per_append_max: 512,
  inflight_appends_max: 4,
  proposals_pending_max: 20_000,
  read_requests_max: 10_000,
} as const;

export type ReplicaLimits = { [key in keyof typeof REPLICA_LIMITS]: number };

export class DdbNode implements DatabaseService {
  readonly timing: Timing;
  private readonly machine: AppliedState;
  private readonly sql: SqlExecutor;
  private readonly gate: ApplyGate;
  /** The snapshot from storage being sent to slaves, while it is. */
  private readonly outgoing: OutgoingSnapshot;
  private readonly checksums = new WeakMap<Uint8Array, string>();
  /** The image of the snapshot the replica took from the master, loaded once on arrival and installed as it is. */
  private prepared: { snapshot: Snapshot; state: PreparedState } | null = null;
  private readonly replica: Replica<LogPayload>;
  private readonly loop: ReadyLoop<LogPayload>;
  private readonly compaction: Compaction;
  private readonly content: ContentCheck;
  private readonly writes: WritePath;
  private readonly reads: ReadPath;
  private readonly proposals: ProposalWaiters;
  private readonly changes: ChangeSignal;
  private readonly urls = new Map<number, string>();
  private ticker: Timer | null = null;
  private loggedRole = 'slave';
  private stopped = false;

  constructor(
    private readonly options: NodeOptions,
    private readonly environment: NodeEnvironment,
    limits: ReplicaLimits = REPLICA_LIMITS,
  ) {
    const { config, self } = options;
    const { clock, storage } = environment;
    this.timing = timingFor(config);
    for (const node of config.nodes) this.urls.set(node.id, node.url.replace(/\/$/, ''));
    const { value_size_max_bytes, result_size_max_bytes, database_size_max_bytes } = config;
    this.machine = new AppliedState({ value_size_max_bytes, result_size_max_bytes, database_size_max_bytes }, options.data_check);
    this.sql = environment.sqlExecutor?.(this.machine) ?? new InlineSqlExecutor(this.machine);
    this.outgoing = new OutgoingSnapshot({
      loadSnapshot: () => storage.loadSnapshot(),
      clock,
      logger: options.logger,
      send: (messages) => {
        if (!this.stopped) environment.transport.send(messages);
      },
      failed: (error) => this.failed(error),
    });
    this.gate = new ApplyGate({
      applied_index: () => this.machine.applied_index,
      apply: (entry) => this.applyEntry(entry),
      refuse: (entry, error) => {
        this.machine.refuse(entry.index, entry.term, error);
        // The executors would run it as they follow the node: they start again from an image that has it refused.
        this.sql.restored();
      },
      trial: (command, context) => this.sql.trial(command, context, config.statement_timeout_ms),
      appliedLater: () => this.appliedOutsidePass(),
      failed: (error) => this.failed(error),
      logger: options.logger,
    });
    this.content = new ContentCheck({
      self_id: self.id,
      machine: this.machine,
      clock,
      transport: environment.transport,
      logger: options.logger,
      request_timeout_ms: config.write_timeout_ms,
      replicaStatus: () => this.replica.status(),
      appliedEntries: (from, to) => this.replica.appliedEntries(from, to),
      appliedTerm: () => this.compaction.last_applied_term,
      restored: (meta) => this.afterRestore(meta),
    });
    const recovered = storage.recovered();
    const last_applied_term = recovered.snapshot === null ? 0 : this.restoreSnapshot(recovered.snapshot);
    const restored = { ...recovered, snapshot: recovered.snapshot && { meta: recovered.snapshot.meta, data: IMAGE_IN_STORAGE } };
    storage.releaseRecovered();
    this.replica = new Replica<LogPayload>(
      {
        id: self.id,
        peers: config.nodes.map((node) => node.id),
        heartbeat_ticks: this.timing.heartbeat_ticks,
        failover_timeout_ticks: this.timing.failover_timeout_ticks,
        election_stagger_ticks: this.timing.election_stagger_ticks,
        ...limits,
        append_bytes_max: APPEND_BYTES_MAX,
        entry_bytes: entryBytes,
      },
      restored,
    );
    this.changes = new ChangeSignal(clock);
    this.proposals = new ProposalWaiters(clock);
    this.loop = new ReadyLoop(this.replica, storage, this.outlets(), recovered.hard_state);
    this.compaction = new Compaction({
      replica: this.replica,
      storage,
      machine: this.machine,
      log_entries_max: config.log_entries_max,
      logger: options.logger,
      wake: () => this.loop.schedule(),
      failed: (error) => this.failed(error),
    });
    this.compaction.last_applied_term = last_applied_term;
    const masters = new MasterWait(this.replica, this.changes);
    const common = { id: self.id, replica: this.replica, clock, masters, logger: options.logger, scheduleReady: () => this.loop.schedule() };
    const { transport } = environment;
    this.writes = new WritePath({
      ...common,
      proposals: this.proposals,
      forwarded: new ForwardQueue((master, writes, timeout_ms) => transport.forwardWrites(master, writes, timeout_ms), clock),
      authorize: options.authorize ?? (() => undefined),
      trial: (command, context) => this.sql.trial(command, context),
      write_timeout_ms: config.write_timeout_ms,
      randomSeed: () => environment.randomSeed(),
      masterUrl: (id) => this.urls.get(id) ?? null,
    });
    this.reads = new ReadPath({
      ...common,
      remoteReads: new SharedReadIndex((master, timeout_ms) => transport.readIndex(master, timeout_ms), clock),
      read_timeout_ms: config.write_timeout_ms,
      appliedIndex: () => this.machine.applied_index,
    });
  }

  get engine(): AppliedState['engine'] {
    return this.machine.engine;
  }

  get id(): number {
    return this.options.self.id;
  }

  /** The replica's own view (role, term, indexes, peers): /status is built from it. */
  replicaStatus(): ReplicaStatus {
    return this.replica.status();
  }

  /** The applied state, for the simulator's checks. */
  get applied(): Pick<AppliedState, 'applied_index' | 'state_hash' | 'content_hash'> {
    return this.machine;
  }

  start(): void {
    const { clock } = this.environment;
    // A stall's worth of ticks, bounded: at least a fail-over timeout, so a stalled
    // node's monitor and check-quorum expire at once, and never thousands of ticks.
    const ticks_max = this.timing.failover_timeout_ticks * this.options.config.nodes.length;
    const ticks = new TickClock(this.timing.tick_ms, ticks_max, clock.steady_ms());
    const tick = () => {
      if (this.stopped) return;
      const due = ticks.due(clock.steady_ms());
      for (let count = 0; count < due; count += 1) this.replica.tick();
      if (due > 0) this.loop.schedule();
      this.ticker = clock.after(this.timing.tick_ms, tick);
    };
    this.ticker = clock.after(this.timing.tick_ms, tick);
    this.content.start();
    this.loop.schedule();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ticker?.cancel();
    this.content.stop();
    this.loop.stop();
    this.gate.close();
    this.proposals.failAll('the node is shutting down');
    this.environment.transport.close();
    this.environment.storage.close();
    this.dropPrepared();
    this.outgoing.close();
    this.sql.close();
    this.machine.close();
  }

  /**
   * What a SIGKILL leaves: the node stops at once, without a last write or a
   * word to anyone (the simulator's crash). Only its engine's memory is freed.
   */
  abandon(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ticker?.cancel();
    this.content.stop();
    this.loop.stop();
    this.gate.close();
    this.dropPrepared();
    this.outgoing.close();
    this.sql.close();
    this.machine.close();
  }

  private dropPrepared(): void {
    if (this.prepared !== null) this.machine.discard(this.prepared.state);
    this.prepared = null;
  }

  // ---- peer input -------------------------------------------------------

  receive(messages: Message<LogPayload>[]): void {
    if (this.stopped) return;
    for (const message of messages) {
      if (message.type === 'install_snapshot' && message.repair === true) {
        this.content.receivedRepair(message);
        continue;
      }
      if (message.type === 'install_snapshot') this.receiveSnapshot(message);
      else this.replica.step(message);
    }
    this.loop.schedule();
  }

  /**
   * A snapshot from the master is loaded beside the applied state before the
   * replica sees it: one that does not load is dropped as if never received
   * (the master sends it again, or another), and nothing of this node's state
   * is touched. Its checksum was verified by the channel already. When the
   * replica takes it, that load is what installSnapshot() puts in place; when
   * not (it is behind this node's commit index), it is dropped at once.
   */
  private receiveSnapshot(message: InstallSnapshot): void {
    const { snapshot } = message;
    let state: PreparedState;
    try {
      state = this.machine.prepare(snapshot.data, snapshot.meta.last_index);
    } catch (error) {
      this.options.logger.error('refused a snapshot from the master: it does not load', { last_index: snapshot.meta.last_index, error: (error as Error).message });
      return;
    }
    this.replica.step(message);
    if (this.replica.receivedSnapshot() !== snapshot) return this.machine.discard(state);
    this.dropPrepared();
    this.prepared = { snapshot, state };
    // The channel checked the image against it: should this node send the image on, it need not hash it again.
    if (message.checksum !== undefined) this.checksums.set(snapshot.data, message.checksum);
  }

  proposeForwarded(writes: ForwardedWrite[]): Promise<ForwardAnswer[]> {
    return this.writes.proposeForwarded(writes);
  }

  answerReadIndex(): Promise<ReadIndexAnswer> {
    return this.reads.answerReadIndex();
  }

  answerCheckpoint(from: number, request: CheckpointRequest): Promise<CheckpointAnswer> {
    return Promise.resolve(this.content.answerCheckpoint(from, request));
  }

  answerRepair(from: number): Promise<RepairAnswer> {
    return Promise.resolve(this.content.answerRepair(from));
  }

  // ---- the ready loop's outlets -----------------------------------------

  private outlets(): ReadyOutlets<LogPayload> {
    const { clock, transport } = this.environment;
    return {
      soon: (run) => clock.soon(run),
      passStarted: () => transport.passStarted(),
      installSnapshot: (snapshot) => this.installSnapshot(snapshot),
      send: (messages) => transport.send(this.withSnapshotImages(messages)),
      apply: (entries) => this.gate.push(entries),
      readsConfirmed: (states: ReadState[]) => this.reads.confirmed(states),
      passEnded: () => this.afterPass(),
      takeBetweenPasses: () => this.compaction.takeInstall(),
      runEnded: () => transport.idle(),
      failed: (error) => this.failed(error),
    };
  }

  private afterPass(): void {
    this.outgoing.expire();
    this.environment.transport.passEnded();
    this.reads.applied(this.machine.applied_index);
    this.compaction.maybeStart();
    this.logRoleChange();
    this.changes.notify();
  }

  /**
   * Storage failed: its files are in an unknown state. The node stops, and the
   * environment decides what that means (a node process exits and recovers on restart).
   */
  private failed(error: unknown): void {
    if (this.stopped) return;
    this.options.logger.error('storage failed; stopping', { error: (error as Error)?.stack ?? String(error) });
    this.environment.fatal(error);
  }

  /**
   * Puts the image into the snapshots the replica sends: from storage
   * (outgoing-snapshot.ts; a message whose image is still being read goes
   * when it is), or the one the replica holds itself.
   */
  private withSnapshotImages(messages: Message<LogPayload>[]): Message<LogPayload>[] {
    const ready: Message<LogPayload>[] = [];
    for (const message of messages) {
      if (message.type !== 'install_snapshot') ready.push(message);
      // The replica may hold the image itself (one it received from a master, whose checksum came with it).
      else if (message.snapshot.data !== IMAGE_IN_STORAGE) ready.push({ ...message, checksum: this.checksumOf(message.snapshot.data) });
      else {
        const sent = this.outgoing.withImage(message);
        if (sent !== null) ready.push(sent);
      }
    }
    return ready;
  }

  private checksumOf(data: Uint8Array): string {
    let checksum = this.checksums.get(data);
    if (checksum === undefined) {
      checksum = snapshotChecksum(data);
      this.checksums.set(data, checksum);
    }
    return checksum;
  }

  /** Compared with the role last logged, not the role at the start of the pass: ticks change roles too. */
  private logRoleChange(): void {
    const status = this.replica.status();
    this.environment.observer?.passEnded(status);
    if (status.role === this.loggedRole) return;
    const details = { term: status.term, master_id: status.master_id, commit_index: status.commit_index, reason: status.role_reason };
    this.options.logger.warn(`role ${this.loggedRole} → ${status.role}: ${status.role_reason}`, details);
    this.loggedRole = status.role;
  }

  private applyEntry(entry: Entry<LogPayload>): void {
    if (entry.index <= this.machine.applied_index) return;
    const result = this.machine.apply(entry);
    this.content.recordCurrent();
    this.sql.applied(entry);
    this.compaction.last_applied_term = entry.term;
    this.proposals.applied(entry.index, entry.term, result);
    this.environment.observer?.applied(entry, this.machine);
  }

  /**
   * Restores first, then stores: storage never holds a snapshot that did not
   * load (it was loaded once already, when it arrived: receive()).
   */
  private installSnapshot(snapshot: Snapshot): void {
    const prepared = this.prepared;
    this.prepared = null;
    if (prepared !== null && (prepared.snapshot !== snapshot || snapshot.meta.last_index < this.machine.applied_index)) this.machine.discard(prepared.state);
    // A repair image (content-check.ts) may have put the data past this snapshot: it is stored, and the data kept, never moved back.
    if (snapshot.meta.last_index >= this.machine.applied_index) {
      this.compaction.last_applied_term = this.restoreSnapshot(snapshot, prepared?.snapshot === snapshot ? prepared.state : undefined);
    }
    this.environment.storage.saveSnapshot(snapshot);
    // The image is on disk now: the replica need not hold it in memory too (it is read back to send it on).
    this.replica.snapshotStored(snapshot.meta.last_index, IMAGE_IN_STORAGE);
    droppedImage(snapshot.data.byteLength);
    this.proposals.skippedTo(snapshot.meta.last_index);
    this.gate.restored(this.machine.applied_index);
    this.options.logger.info('installed snapshot from the master', { last_index: snapshot.meta.last_index });
  }

  /** Restores the engine from a snapshot (or puts its image, loaded already, in place); returns the term of its last entry. */
  private restoreSnapshot(snapshot: Snapshot, prepared?: PreparedState): number {
    if (prepared === undefined) this.machine.restore(snapshot.data);
    else this.machine.install(prepared);
    this.content.restored();
    this.sql.restored();
    this.environment.observer?.restored(snapshot.meta, this.machine);
    return snapshot.meta.last_term;
  }

  /** A repair image replaced the applied state (content-check.ts); entries up to it are skipped as they come. */
  private afterRestore(meta: SnapshotMeta): void {
    this.compaction.last_applied_term = meta.last_term;
    this.sql.restored();
    this.proposals.skippedTo(meta.last_index);
    this.gate.restored(this.machine.applied_index);
    this.environment.observer?.restored(meta, this.machine);
  }

  /** The apply gate applied entries after a trial, outside a pass: what afterPass tells of applied entries (compaction waits for the next pass). */
  private appliedOutsidePass(): void {
    this.reads.applied(this.machine.applied_index);
    this.changes.notify();
    this.loop.schedule();
  }

  // ---- the public API (DatabaseService) ----------------------------------

  writeTimeoutMs(): number {
    return this.options.config.write_timeout_ms;
  }

  write(command: Command, caller?: Caller): Promise<unknown> {
    return this.writes.write(command, caller);
  }

  writeAsMaster(command: Command, caller?: Caller): Promise<unknown> {
    return this.writes.writeAsMaster(command, caller);
  }

  query(db_name: string | null, script: string, params?: SqlParams): Promise<unknown> {
    return this.sql.query(db_name, script, params);
  }

  readBarrier(consistency: 'local' | 'strong'): Promise<void> {
    return this.reads.readBarrier(consistency);
  }

  masterUrl(): string | null {
    const master = this.replica.masterId();
    return master === null ? null : (this.urls.get(master) ?? null);
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
      content_hash: this.machine.content_hash,
      content_check: this.content.status(),
      tick_ms: this.timing.tick_ms,
    });
  }
}
