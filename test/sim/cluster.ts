/**
 * A cluster of replicas on the simulated network, driven tick by tick. Each
 * node runs the node shell's own ready loop (src/node/ready-loop.ts) over a
 * disk (what it persisted: hard state, entries with suffix overwrite,
 * snapshot) and a state machine; a crash loses everything else, and a
 * restart builds a new Replica from the disk alone. A crash can strike
 * inside an fsync, before or after the batch is durable: the loop's split of
 * a master's appends from the rest (they leave before the fsync) is tested here.
 */
import type { Entry, HardState, Message, ReplicaStatus, Snapshot } from '../../src/replication/messages';
import { mustSync } from '../../src/replication/sync-policy';
import type { StorageBatch } from '../../src/replication/storage';
import { type Done, type LoopStorage, ReadyLoop } from '../../src/node/ready-loop';
import type { Random } from '../support/random';
import { Replica, type ReplicaConfig, type DurableState } from '../../src/replication/replica';
import { type DiskView, type MasterView, SimChecker } from './checker';
import { EMPTY_MACHINE, type MachineState, applyEntry, decodeMachine, encodeMachine } from './machine';
import { type NetworkFaults, SimNetwork } from './network';

export type SimMessage = Message<string>;
export type ReplicaLimits = Omit<ReplicaConfig<string>, 'id' | 'peers'>;
export type ReplicaFactory = (config: ReplicaConfig<string>, restored: DurableState<string>) => Replica<string>;

const TRACE_LINES_MAX = 300;

export class SimDisk implements DiskView {
  /** What survives a crash. */
  hard_state: HardState = { term: 0, vote: null, commit: 0 };
  /** A newer hard state that only advanced the commit index: like Storage, not written until the next sync. */
  private unsynced: HardState | null = null;
  /** A batch written and waiting for its fsync: gone if the node crashes first. */
  private unsynced_batch: StorageBatch<string> | null = null;
  snapshot: Snapshot | null = null;
  /** Entries after the snapshot, contiguous. */
  entries: Entry<string>[] = [];

  snapshotIndex(): number {
    return this.snapshot?.meta.last_index ?? 0;
  }

  termAt(index: number): number | null {
    const snapshot_index = this.snapshotIndex();
    if (index === snapshot_index) return this.snapshot?.meta.last_term ?? 0;
    if (index < snapshot_index) return null;
    return this.entries[index - snapshot_index - 1]?.term ?? null;
  }

  lastIndex(): number {
    return this.snapshotIndex() + this.entries.length;
  }

  lastTerm(): number {
    return this.termAt(this.lastIndex()) as number;
  }

  /** Writes entries, overwriting the persisted suffix from entries[0].index on. */
  private writeEntries(entries: readonly Entry<string>[]): void {
    if (entries.length === 0) return;
    const keep = (entries[0] as Entry<string>).index - this.snapshotIndex() - 1;
    if (keep < 0 || keep > this.entries.length) throw new Error(`disk: entries from ${entries[0]?.index} leave a gap`);
    this.entries.length = keep;
    for (const entry of entries) this.entries.push(entry);
  }

  /** The hard state last given to write(), synced or not. */
  latestHardState(): HardState {
    return this.unsynced_batch?.hard_state ?? this.unsynced ?? this.hard_state;
  }

  /** Storage.write's rule (mustSync): a batch that only advances the commit index is not synced. */
  write(batch: StorageBatch<string>): boolean {
    if (this.unsynced_batch !== null) throw new Error('disk: written while a sync is in flight');
    if (!mustSync(this.latestHardState(), batch.hard_state, batch.entries.length)) {
      this.unsynced = batch.hard_state ?? this.unsynced;
      return false;
    }
    this.unsynced_batch = { hard_state: batch.hard_state ?? this.unsynced, entries: batch.entries };
    return true;
  }

  /** The fsync: the written batch is durable from now on. */
  makeDurable(): StorageBatch<string> {
    const batch = this.unsynced_batch as StorageBatch<string>;
    this.unsynced_batch = null;
    this.writeEntries(batch.entries);
    if (batch.hard_state !== null) this.hard_state = { ...batch.hard_state };
    this.unsynced = null;
    return batch;
  }

  /** The crash of the machine, not only the process: what was never synced is gone. */
  crash(): void {
    this.unsynced = null;
    this.unsynced_batch = null;
  }

  restored(): DurableState<string> {
    return { hard_state: { ...this.hard_state }, snapshot: this.snapshot, entries: [...this.entries] };
  }
}

export class SimNode {
  replica: Replica<string> | null = null;
  loop: ReadyLoop<string> | null = null;
  paused = false;
  machine: MachineState = EMPTY_MACHINE;
  readonly disk = new SimDisk();

  constructor(readonly id: number) {}

  get alive(): boolean {
    return this.replica !== null;
  }

  status(): ReplicaStatus | null {
    return this.replica?.status() ?? null;
  }
}

export interface ClusterOptions {
  random: Random;
  node_count: number;
  limits: ReplicaLimits;
  faults: NetworkFaults;
  factory?: ReplicaFactory;
  /** Chance that a node crashes after persisting a ready but before sending or applying it. */
  crash_in_ready_probability?: number;
}

export class SimCluster {
  now_tick = 0;
  readonly nodes: SimNode[];
  readonly network: SimNetwork<SimMessage>;
  readonly checker: SimChecker;
  crash_in_ready_probability: number;
  private readonly random: Random;
  private readonly factory: ReplicaFactory;
  private readonly trace_lines: string[] = [];
  private proposal_count = 0;
  private read_count = 0;
  /** Counters for the run's summary. */
  readonly counts = { crashes: 0, snapshots_installed: 0, entries_overwritten: 0, compactions: 0 };

  constructor(private readonly options: ClusterOptions) {
    this.random = options.random;
    this.factory = options.factory ?? ((config, restored) => new Replica<string>(config, restored));
    this.crash_in_ready_probability = options.crash_in_ready_probability ?? 0;
    this.network = new SimNetwork<SimMessage>(options.random.fork(), options.faults);
    this.checker = new SimChecker(options.node_count);
    this.nodes = Array.from({ length: options.node_count }, (_unused, position) => new SimNode(position + 1));
    for (const node of this.nodes) this.start(node);
  }

  get ids(): number[] {
    return this.nodes.map((node) => node.id);
  }

  node(id: number): SimNode {
    const node = this.nodes[id - 1];
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  trace(line: string): void {
    this.trace_lines.push(`[${this.now_tick}] ${line}`);
    if (this.trace_lines.length > TRACE_LINES_MAX) this.trace_lines.shift();
  }

  recentTrace(): string {
    return this.trace_lines.join('\n');
  }

  /** One tick: deliver what is due, then tick every running node, in random order. */
  tick(): void {
    this.now_tick += 1;
    for (const message of this.network.due(this.now_tick)) this.deliver(message);
    for (const node of this.random.shuffle([...this.nodes])) {
      if (node.replica === null || node.paused) continue;
      node.replica.tick();
      this.drain(node);
    }
  }

  run(ticks: number): void {
    for (let count = 0; count < ticks; count += 1) this.tick();
  }

  private deliver(message: SimMessage): void {
    const node = this.node(message.to);
    if (node.replica === null) return;
    if (node.paused) {
      this.network.postpone(message, this.now_tick);
      return;
    }
    node.replica.step(message);
    this.drain(node);
  }

  /** Runs the node's ready loop (synchronously here: the simulated fsync completes at once, or the node crashes in it). */
  drain(node: SimNode): void {
    node.loop?.schedule();
    const status = node.replica?.status();
    if (status === undefined) return;
    this.observe(node, status);
  }

  /** The node's disk as the ready loop sees it; the fsync is where a crash may strike. */
  private loopStorage(node: SimNode): LoopStorage<string> {
    return {
      write: (batch) => {
        const first_written = batch.entries[0]?.index;
        if (first_written !== undefined && first_written <= node.disk.lastIndex()) this.counts.entries_overwritten += 1;
        return node.disk.write(batch);
      },
      sync: (done: Done) => {
        if (this.random.chance(this.crash_in_ready_probability)) {
          this.crash(node.id, 'in its fsync, before the batch was durable');
          return;
        }
        const batch = node.disk.makeDurable();
        this.checker.persisted(node.id, batch.entries, node.disk);
        if (this.random.chance(this.crash_in_ready_probability)) {
          this.crash(node.id, 'after its fsync, before sending or applying');
          return;
        }
        done(null);
      },
    };
  }

  /** An append of several entries stays within the byte budget (replica.ts: entriesFrom); one entry may exceed it alone. */
  private checkAppendBytes(message: Message<string>): void {
    const { append_bytes_max, entry_bytes } = this.options.limits;
    if (message.type !== 'append_entries' || append_bytes_max === undefined || entry_bytes === undefined) return;
    if (message.entries.length < 2) return;
    const bytes = message.entries.reduce((sum, entry) => sum + entry_bytes(entry), 0);
    if (bytes > append_bytes_max) throw new Error(`append from ${message.from} to ${message.to}: ${message.entries.length} entries of ${bytes} bytes, over ${append_bytes_max}`);
  }

  private startLoop(node: SimNode, replica: Replica<string>): ReadyLoop<string> {
    return new ReadyLoop<string>(
      replica,
      this.loopStorage(node),
      {
        soon: (run) => run(),
        passStarted: () => undefined,
        installSnapshot: (snapshot) => this.installSnapshot(node, snapshot),
        send: (messages) => {
          for (const message of messages) {
            this.checkAppendBytes(message);
            this.network.send(message, this.now_tick);
          }
        },
        apply: (entries) => this.applyAll(node, entries),
        readsConfirmed: (states) => {
          for (const read of states) this.checker.readConfirmed(node.id, read.request_id, read.index);
        },
        passEnded: () => undefined,
        takeBetweenPasses: () => null,
        runEnded: () => undefined,
        failed: (error) => {
          throw error;
        },
      },
      node.disk.hard_state,
    );
  }

  private observe(node: SimNode, status: ReplicaStatus): void {
    const masters_before = this.checker.masters_elected;
    this.checker.observeRole(node.id, status.role, status.term, node.disk);
    if (this.checker.masters_elected > masters_before) this.trace(`node ${node.id} promoted, term ${status.term}, last ${status.last_index}`);
  }

  private installSnapshot(node: SimNode, snapshot: Snapshot): void {
    node.disk.snapshot = snapshot;
    node.disk.entries = [];
    this.counts.snapshots_installed += 1;
    node.machine = decodeMachine(snapshot.data);
    this.checker.restored(node.id, node.machine);
    this.trace(`node ${node.id} installed snapshot ${snapshot.meta.last_index}`);
  }

  private applyAll(node: SimNode, entries: readonly Entry<string>[]): void {
    const term = (node.replica as Replica<string>).status().term;
    const disks = this.nodes.map((each) => each.disk);
    const masters: MasterView[] = [];
    for (const each of this.nodes) {
      const status = each.status();
      if (status?.role === 'master') masters.push({ node_id: each.id, term: status.term, disk: each.disk });
    }
    for (const entry of entries) {
      if (entry.index !== node.machine.applied_index + 1) {
        throw new Error(`node ${node.id}: applies ${entry.index} after ${node.machine.applied_index}`);
      }
      node.machine = applyEntry(node.machine, entry);
      this.checker.applied(node.id, term, entry, node.machine, { disks, masters });
    }
  }

  // ---- faults ------------------------------------------------------------

  crash(id: number, why = ''): void {
    const node = this.node(id);
    if (node.replica === null) return;
    node.replica = null;
    node.loop?.stop();
    node.loop = null;
    node.disk.crash();
    this.counts.crashes += 1;
    node.paused = false;
    node.machine = EMPTY_MACHINE;
    this.trace(`node ${id} crashed ${why}`);
  }

  restart(id: number): void {
    const node = this.node(id);
    if (node.replica !== null) return;
    this.start(node);
    this.trace(`node ${id} restarted at term ${node.disk.hard_state.term}, last ${node.disk.lastIndex()}`);
  }

  private start(node: SimNode): void {
    const snapshot = node.disk.snapshot;
    node.machine = snapshot === null ? EMPTY_MACHINE : decodeMachine(snapshot.data);
    this.checker.restored(node.id, node.machine);
    const config: ReplicaConfig<string> = { id: node.id, peers: this.ids, ...this.options.limits };
    node.replica = this.factory(config, node.disk.restored());
    node.loop = this.startLoop(node, node.replica);
    this.drain(node);
  }

  /** The node snapshots its state machine at its applied index and compacts its log. */
  compact(id: number): void {
    const node = this.node(id);
    if (node.replica === null) return;
    const state = node.machine;
    if (state.applied_index <= node.disk.snapshotIndex()) return;
    const data = encodeMachine(state);
    node.replica.compact(state.applied_index, data);
    this.counts.compactions += 1;
    const snapshot_index = node.disk.snapshotIndex();
    node.disk.entries = node.disk.entries.slice(state.applied_index - snapshot_index);
    node.disk.snapshot = { meta: { last_index: state.applied_index, last_term: state.applied_term }, data };
  }

  // ---- clients -----------------------------------------------------------

  /** Proposes a fresh value at a node; returns the index when it was accepted. */
  propose(id: number): number | null {
    const node = this.node(id);
    if (node.replica === null || node.paused) return null;
    this.proposal_count += 1;
    const data = `v${this.proposal_count}`;
    const result = node.replica.propose(data);
    if (!result.ok) return null;
    this.checker.proposed(id, result.index, result.term, data);
    this.drain(node);
    return result.index;
  }

  readIndex(id: number): boolean {
    const node = this.node(id);
    if (node.replica === null || node.paused) return false;
    this.read_count += 1;
    const request_id = `r${this.read_count}`;
    this.checker.readAsked(request_id);
    const result = node.replica.readIndex(request_id);
    this.drain(node);
    return result.ok;
  }

  // ---- views -------------------------------------------------------------

  masters(): SimNode[] {
    return this.nodes.filter((node) => node.status()?.role === 'master');
  }

  /** The master every running node agrees on (same term, same master), or null. */
  agreedMaster(): SimNode | null {
    const running = this.nodes.filter((node) => node.alive);
    const masters = this.masters();
    if (masters.length !== 1) return null;
    const master = masters[0] as SimNode;
    const status = master.status() as ReplicaStatus;
    const agreed = running.every((node) => {
      const other = node.status() as ReplicaStatus;
      return other.term === status.term && other.master_id === master.id;
    });
    return agreed ? master : null;
  }

  describe(): string {
    return this.nodes
      .map((node) => {
        const status = node.status();
        if (status === null) return `node ${node.id}: down (disk term ${node.disk.hard_state.term}, last ${node.disk.lastIndex()})`;
        return (
          `node ${node.id}: ${status.role}${status.pre_candidate ? '(pre)' : ''} term ${status.term} master ${status.master_id} ` +
          `commit ${status.commit_index} applied ${node.machine.applied_index} log ${status.first_index}..${status.last_index}` +
          (node.paused ? ' paused' : '')
        );
      })
      .join('\n');
  }
}
