/**
 * A cluster of replicas on the simulated network, driven tick by tick. Each
 * node has a disk (what it persisted through ready(): hard state, entries with
 * suffix overwrite, snapshot) and a state machine; a crash loses everything
 * else, and a restart builds a new Replica from the disk alone.
 */
import type { Entry, HardState, Message, ReplicaStatus, Snapshot } from '../../src/replication/messages';
import { mustSync, splitAtSync } from '../../src/replication/sync-policy';
import type { Random } from '../support/random';
import { Replica, type ReplicaConfig, type DurableState } from '../../src/replication/replica';
import { type DiskView, type MasterView, SimChecker } from './checker';
import { EMPTY_MACHINE, type MachineState, applyEntry, decodeMachine, encodeMachine } from './machine';
import { type NetworkFaults, SimNetwork } from './network';

export type SimMessage = Message<string>;
export type ReplicaLimits = Omit<ReplicaConfig, 'id' | 'peers'>;
export type ReplicaFactory = (config: ReplicaConfig, restored: DurableState<string>) => Replica<string>;

const TRACE_LINES_MAX = 300;

export class SimDisk implements DiskView {
  /** What survives a crash. */
  hard_state: HardState = { term: 0, vote: null, commit: 0 };
  /** A newer hard state that only advanced the commit index: like Storage, not written until the next sync. */
  private unsynced: HardState | null = null;
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
  write(entries: readonly Entry<string>[]): void {
    if (entries.length === 0) return;
    const keep = (entries[0] as Entry<string>).index - this.snapshotIndex() - 1;
    if (keep < 0 || keep > this.entries.length) throw new Error(`disk: entries from ${entries[0]?.index} leave a gap`);
    this.entries.length = keep;
    for (const entry of entries) this.entries.push(entry);
  }

  /** The hard state last given to save(), synced or not. */
  latestHardState(): HardState {
    return this.unsynced ?? this.hard_state;
  }

  mustSync(hard_state: HardState | null, entries: readonly Entry<string>[]): boolean {
    return mustSync(this.latestHardState(), hard_state, entries.length);
  }

  /** Storage.save's rule (mustSync): a batch that only advances the commit index is not synced. */
  save(hard_state: HardState | null, entries: readonly Entry<string>[]): void {
    const latest = hard_state ?? this.unsynced;
    if (!this.mustSync(hard_state, entries)) {
      this.unsynced = latest;
      return;
    }
    this.write(entries);
    if (latest !== null) this.hard_state = { ...latest };
    this.unsynced = null;
  }

  /** The crash of the machine, not only the process: what was never synced is gone. */
  crash(): void {
    this.unsynced = null;
  }

  restored(): DurableState<string> {
    return { hard_state: { ...this.hard_state }, snapshot: this.snapshot, entries: [...this.entries] };
  }
}

export class SimNode {
  replica: Replica<string> | null = null;
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

  /** The node's ready loop: persist, send, apply, answer reads; then the checker looks. */
  drain(node: SimNode): void {
    for (let round = 0; node.replica !== null && node.replica.hasReady(); round += 1) {
      if (round > 100) throw new Error(`node ${node.id}: ready loop does not settle`);
      const ready = node.replica.ready();
      if (ready.snapshot !== null) this.installSnapshot(node, ready.snapshot);
      const first_written = ready.entries[0]?.index;
      if (first_written !== undefined && first_written <= node.disk.lastIndex()) this.counts.entries_overwritten += 1;
      // As in node.ts: a master's appends leave before the sync, and the node may die before the sync ends.
      const { before, after } = splitAtSync(ready.messages, node.disk.latestHardState(), ready.hard_state);
      if (node.disk.mustSync(ready.hard_state, ready.entries) && before.length > 0) {
        for (const message of before) this.network.send(message, this.now_tick);
        if (this.random.chance(this.crash_in_ready_probability)) {
          this.crash(node.id, 'after sending appends, before its own sync');
          return;
        }
      } else {
        after.unshift(...before);
      }
      node.disk.save(ready.hard_state, ready.entries);
      this.checker.persisted(node.id, ready.entries, node.disk);
      if (this.random.chance(this.crash_in_ready_probability)) {
        this.crash(node.id, 'after persisting, before sending');
        return;
      }
      for (const message of after) this.network.send(message, this.now_tick);
      if (ready.committed.length > 0) this.applyAll(node, ready.committed);
      for (const read of ready.read_states) this.checker.readConfirmed(node.id, read.request_id, read.index);
      node.replica.advance();
    }
    const status = node.replica?.status();
    if (status === undefined) return;
    this.observe(node, status);
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
    const config: ReplicaConfig = { id: node.id, peers: this.ids, ...this.options.limits };
    node.replica = this.factory(config, node.disk.restored());
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
