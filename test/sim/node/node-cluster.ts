/**
 * A cluster of real ddb nodes (src/node/node.ts: the replica, the ready
 * loop, the write and read paths, the forward queue, the shared read index,
 * compaction, the engine over SQLite) in simulated time, on simulated disks
 * and a simulated network, every draw from one seed. The checker
 * (../checker.ts) sees every role, every durable entry, every applied entry
 * and every strong read, and throws the moment a safety property breaks.
 */
import type { Command } from '../../../database/commands';
import type { LogPayload } from '../../../src/node/applied-state';
import { DdbNode, type ReplicaLimits } from '../../../src/node/node';
import type { Entry, ReplicaStatus } from '../../../src/replication/messages';
import { type ClusterConfig, parseConfig } from '../../../utils/config';
import { createSilentLogger } from '../../../utils/logger';
import type { Random } from '../../support/random';
import { type MasterView, SimChecker } from '../checker';
import { Scheduler } from './scheduler';
import { NodeLife, SimClock } from './sim-clock';
import { SimDisk, SimStorage, type SyncFault } from './sim-disk';
import { type LinkFaults, SimLinks } from './sim-links';
import { SimTransport } from './sim-transport';
import type { PeerInspector } from '../../../src/replication/channel-transport';
import { peerInspector } from '../../../src/replication/peer-inspector';

export interface NodeTimings {
  heartbeat_ms: number;
  failover_timeout_ms: number;
  election_stagger_ms: number;
  log_entries_max: number;
  write_timeout_ms: number;
}

export interface NodeClusterOptions {
  random: Random;
  node_count: number;
  timings: NodeTimings;
  limits: ReplicaLimits;
  links: LinkFaults;
  /** Chance that an fsync ends in a crash of its node (before or after the batch is durable). */
  crash_in_sync_probability: number;
  /**
   * The checker compares content hashes too (what each entry did, and the
   * data's own hash every few entries): off only where a scenario makes a
   * node's data differ on purpose (a corrupted slave, until it is repaired).
   */
  check_content?: boolean;
}

/** The data's hash enters the content chain this often in simulation: divergence shows within a few entries. */
const SIM_DATA_CHECK = { every_entries: 8, bytes_max: 1 << 20 };

const TRACE_LINES_MAX = 300;
export const DISK_LATENCY_MAX_MS = 2;

/** The checker compares entry data as text. */
function dataKey(entry: Entry<unknown>): Entry<string> {
  return { index: entry.index, term: entry.term, data: entry.data === null ? null : JSON.stringify(entry.data) };
}

export class SimMember {
  readonly disk = new SimDisk<LogPayload>();
  readonly life: NodeLife;
  node: DdbNode | null = null;
  /** The peer transport of the current life (the transport contract test calls it directly). */
  transport: SimTransport | null = null;

  constructor(
    readonly id: number,
    scheduler: Scheduler,
  ) {
    this.life = new NodeLife(scheduler);
  }

  get running(): boolean {
    return this.node !== null;
  }

  status(): ReplicaStatus | null {
    return this.node?.replicaStatus() ?? null;
  }
}

export class NodeSimCluster {
  readonly scheduler = new Scheduler();
  readonly links: SimLinks;
  readonly checker: SimChecker;
  readonly members: SimMember[];
  readonly config: ClusterConfig;
  crash_in_sync_probability: number;
  readonly counts = { crashes: 0, restarts: 0, crashes_in_sync: 0, disk_wipes: 0 };
  private readonly trace_lines: string[] = [];
  private readonly random: Random;

  constructor(private readonly options: NodeClusterOptions) {
    this.random = options.random;
    this.crash_in_sync_probability = options.crash_in_sync_probability;
    this.links = new SimLinks(options.random.fork(), options.links);
    this.checker = new SimChecker(options.node_count);
    const ids = Array.from({ length: options.node_count }, (_unused, position) => position + 1);
    this.config = parseConfig({ nodes: ids.map((id) => ({ id, url: `http://10.0.0.${id}:7000` })), data_dir: 'sim', ...options.timings });
    this.members = ids.map((id) => new SimMember(id, this.scheduler));
    for (const member of this.members) this.start(member);
  }

  get ids(): number[] {
    return this.members.map((member) => member.id);
  }

  get limits(): ReplicaLimits {
    return this.options.limits;
  }

  private readonly inspectors = new Map<number, PeerInspector>();

  /** Node `id`'s peer inspector, as create-node.ts makes it for a node process. */
  private inspectorOf(id: number): PeerInspector {
    let inspector = this.inspectors.get(id);
    if (inspector === undefined) {
      inspector = peerInspector({
        self_id: id,
        member_ids: this.config.nodes.map((node) => node.id),
        body_limit_bytes: this.config.body_limit_bytes,
        entries_per_message_max: this.options.limits.entries_per_append_max,
      });
      this.inspectors.set(id, inspector);
    }
    return inspector;
  }

  member(id: number): SimMember {
    const member = this.members[id - 1];
    if (member === undefined) throw new Error(`no node ${id}`);
    return member;
  }

  now_ms(): number {
    return this.scheduler.now_ms();
  }

  trace(line: string): void {
    this.trace_lines.push(`[${this.now_ms()} ms] ${line}`);
    if (this.trace_lines.length > TRACE_LINES_MAX) this.trace_lines.shift();
  }

  recentTrace(): string {
    return this.trace_lines.join('\n');
  }

  run(duration_ms: number): Promise<void> {
    return this.scheduler.runUntil(this.now_ms() + duration_ms);
  }

  /** Waits in simulated time (a client thinking, a test waiting). */
  sleep(duration_ms: number): Promise<void> {
    return new Promise((resolve) => this.scheduler.after(duration_ms, resolve));
  }

  // ---- lives -------------------------------------------------------------

  private start(member: SimMember): void {
    const clock = new SimClock(this.scheduler, member.life);
    const storage = new SimStorage<LogPayload>(member.disk, this.scheduler, member.life, {
      syncFault: () => this.syncFault(),
      crashNode: (why) => {
        this.counts.crashes_in_sync += 1;
        this.crash(member.id, why);
      },
      persisted: (entries) => this.checker.persisted(member.id, entries.map(dataKey), member.disk),
      latencyMs: () => this.random.integer(0, DISK_LATENCY_MAX_MS),
    });
    const transport = new SimTransport(member.id, this.scheduler, clock, this.links, {
      onNode: (id, run) => this.onNode(id, run),
      onEnd: (id, ending) => this.member(id).life.onEnd(ending),
    }, (id) => this.inspectorOf(id));
    const self = this.config.nodes[member.id - 1] as ClusterConfig['nodes'][number];
    const node = new DdbNode(
      { config: this.config, self, logger: createSilentLogger(), data_check: SIM_DATA_CHECK },
      {
        clock,
        storage,
        transport,
        randomSeed: () => this.random.uint32(),
        fatal: (error) => {
          throw error;
        },
        observer: {
          passEnded: (status) => this.checker.observeRole(member.id, status.role, status.term, member.disk),
          applied: (entry, state) => this.checkApplied(member, entry, state),
          restored: (meta, state) => this.checker.restored(member.id, { applied_index: state.applied_index, applied_term: meta.last_term, state_hash: this.hashesOf(state) }),
        },
      },
      this.options.limits,
    );
    member.node = node;
    member.transport = transport;
    node.start();
  }

  private syncFault(): SyncFault {
    if (!this.random.chance(this.crash_in_sync_probability)) return 'none';
    return this.random.chance(0.5) ? 'crash_before_durable' : 'crash_after_durable';
  }

  /** What the checker compares across nodes at one index: the entry chain, and the content chain unless the scenario said not to. */
  private hashesOf(state: { state_hash: string; content_hash: string }): string {
    return this.options.check_content === false ? state.state_hash : `${state.state_hash}/${state.content_hash}`;
  }

  private checkApplied(member: SimMember, entry: Entry<LogPayload>, state: { applied_index: number; state_hash: string; content_hash: string }): void {
    const term = member.node?.replicaStatus().term ?? 0;
    const masters: MasterView[] = [];
    for (const each of this.members) {
      const status = each.status();
      if (status?.role === 'master') masters.push({ node_id: each.id, term: status.term, disk: each.disk });
    }
    const view = { applied_index: state.applied_index, applied_term: entry.term, state_hash: this.hashesOf(state) };
    this.checker.applied(member.id, term, dataKey(entry), view, { disks: this.members.map((each) => each.disk), masters });
  }

  /** Runs `run` on node `id` if it is up (deferred while it is paused); false when it is down. */
  onNode(id: number, run: (node: DdbNode) => void): boolean {
    const member = this.member(id);
    const node = member.node;
    if (node === null) return false;
    member.life.guard(() => run(node))();
    return true;
  }

  // ---- faults -------------------------------------------------------------

  crash(id: number, why = ''): void {
    const member = this.member(id);
    if (member.node === null) return;
    member.node.abandon();
    member.node = null;
    member.transport = null;
    member.life.end();
    member.disk.crash(this.random);
    this.counts.crashes += 1;
    this.trace(`node ${id} crashed ${why}`);
  }

  restart(id: number): void {
    const member = this.member(id);
    if (member.node !== null) return;
    this.start(member);
    this.counts.restarts += 1;
    this.trace(`node ${id} restarted at term ${member.disk.hard_state.term}, last ${member.disk.lastIndex()}`);
  }

  /** The node restarts with nothing on its disk (`--in-memory`, or a deleted data directory). */
  wipeAndRestart(id: number): void {
    this.crash(id, '(its disk is lost)');
    this.member(id).disk.wipe();
    this.counts.disk_wipes += 1;
    this.restart(id);
  }

  pause(id: number): void {
    const member = this.member(id);
    if (member.node === null || member.life.paused) return;
    member.life.paused = true;
    this.trace(`node ${id} paused`);
  }

  resume(id: number): void {
    const member = this.member(id);
    if (!member.life.paused) return;
    member.life.resume();
    this.trace(`node ${id} resumed`);
  }

  // ---- clients ------------------------------------------------------------

  /** A client's write through node `id`, or 'down' when it is not running; 'lost' when no answer comes in time. */
  async write(id: number, command: Command): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown } | 'down' | 'lost'> {
    const node = this.member(id).node;
    if (node === null || this.member(id).life.paused) return 'down';
    return this.withinTime(node.write(command).then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })));
  }

  /** A strong read through node `id`; checks it sees every entry applied anywhere before it began. */
  async strongRead(id: number): Promise<'served' | 'refused' | 'down' | 'lost'> {
    const node = this.member(id).node;
    if (node === null || this.member(id).life.paused) return 'down';
    const floor = this.checker.committedCount();
    const outcome = await this.withinTime(node.readBarrier('strong').then(() => 'served' as const, () => 'refused' as const));
    if (outcome === 'served' && this.member(id).node === node) this.checker.readServed(id, floor, node.applied.applied_index);
    return outcome;
  }

  /** A client gives up on a node that never answers (it crashed with the request) after twice the write timeout. */
  private withinTime<T>(operation: Promise<T>): Promise<T | 'lost'> {
    return Promise.race([operation, this.sleep(2 * this.config.write_timeout_ms).then(() => 'lost' as const)]);
  }

  // ---- views --------------------------------------------------------------

  masters(): SimMember[] {
    return this.members.filter((member) => member.status()?.role === 'master');
  }

  /** The master every running node agrees on (same term, same master), or null. */
  agreedMaster(): SimMember | null {
    const masters = this.masters();
    if (masters.length !== 1) return null;
    const master = masters[0] as SimMember;
    const status = master.status() as ReplicaStatus;
    const agreed = this.members
      .filter((member) => member.running && !member.life.paused)
      .every((member) => {
        const other = member.status() as ReplicaStatus;
        return other.term === status.term && other.master_id === master.id;
      });
    return agreed ? master : null;
  }

  describe(): string {
    return this.members
      .map((member) => {
        const status = member.status();
        if (status === null) return `node ${member.id}: down (disk term ${member.disk.hard_state.term}, last ${member.disk.lastIndex()})`;
        return (
          `node ${member.id}: ${status.role}${status.pre_candidate ? '(pre)' : ''} term ${status.term} master ${status.master_id} ` +
          `commit ${status.commit_index} applied ${member.node?.applied.applied_index} log ${status.first_index}..${status.last_index}` +
          (member.life.paused ? ' paused' : '')
        );
      })
      .join('\n');
  }
}
