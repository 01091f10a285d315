/**
 * The nemesis: plays a fault schedule (fault-schedule.ts) against a real
 * cluster, one fault at a time, healing each before the next. It draws
 * nothing itself; when a step's rule names the master it asks the cluster who
 * that is, which decides the node hit but never the schedule. Kinds: kill
 * (SIGKILL, restart later), pause (SIGSTOP, SIGCONT later), partition (a
 * minority cut off), isolate-master (the master alone), asymmetric (one
 * direction of one link cut).
 */
import type { StatusBody } from '../support/cluster';
import type { Firewall } from './firewall';
import { faultAction, needsMaster, type FaultAction } from './fault-targets';
import type { FaultKind, FaultStep } from './fault-schedule';

/** The part of a test cluster the nemesis uses (TestCluster has it), so a test can fake it. */
export interface NemesisCluster {
  ids(): number[];
  status(id: number): Promise<Pick<StatusBody, 'master_id' | 'term'> | null>;
  signal(id: number, signal: NodeJS.Signals): Promise<void>;
  start(id: number): void;
}

export type NemesisFirewall = Pick<Firewall, 'split' | 'cutOneWay' | 'heal'>;

export interface NemesisOptions {
  cluster: NemesisCluster;
  firewall: NemesisFirewall | null;
  schedule: readonly FaultStep[];
  log: (line: string) => void;
}

export class Nemesis {
  readonly injected = new Map<FaultKind, number>();
  private heal: (() => Promise<void>) | null = null;

  constructor(private readonly options: NemesisOptions) {}

  /** Plays the schedule from `started_ms` (a performance.now() time), healing each fault after its duration. */
  async run(started_ms: number): Promise<void> {
    for (const step of this.options.schedule) {
      await sleep(started_ms + step.at_ms - performance.now());
      const injected_ms = performance.now();
      await this.inject(step, injected_ms - started_ms);
      this.injected.set(step.fault.kind, (this.injected.get(step.fault.kind) ?? 0) + 1);
      await sleep(injected_ms + step.duration_ms - performance.now());
      await this.healAll();
    }
  }

  /** The master named by the node with the highest term: a paused or cut-off old master still names itself, at an older term. */
  private async currentMaster(): Promise<number | null> {
    const { cluster } = this.options;
    const statuses = await Promise.all(cluster.ids().map((id) => cluster.status(id)));
    let freshest: Pick<StatusBody, 'master_id' | 'term'> | null = null;
    for (const status of statuses) {
      if (status?.master_id != null && (freshest === null || status.term > freshest.term)) freshest = status;
    }
    return freshest?.master_id ?? null;
  }

  private async inject(step: FaultStep, elapsed_ms: number): Promise<void> {
    const { cluster, log } = this.options;
    const master_id = needsMaster(step.fault) ? await this.currentMaster() : null;
    const action = faultAction(step.fault, master_id, cluster.ids());
    const whose = needsMaster(step.fault) ? (master_id === null ? ' (no master known)' : ` (master ${master_id})`) : '';
    log(`t=${(elapsed_ms / 1000).toFixed(2)} s step ${step.step}: ${describeAction(action)}${whose}`);
    await this.apply(action);
  }

  private async apply(action: FaultAction): Promise<void> {
    const { cluster, firewall, log } = this.options;
    if (action.kind === 'kill') {
      await cluster.signal(action.node_id, 'SIGKILL');
      this.heal = async () => {
        log(`restart node ${action.node_id}`);
        cluster.start(action.node_id);
      };
      return;
    }
    if (action.kind === 'pause') {
      await cluster.signal(action.node_id, 'SIGSTOP');
      this.heal = async () => {
        log(`resume node ${action.node_id}`);
        await cluster.signal(action.node_id, 'SIGCONT');
      };
      return;
    }
    if (firewall === null) throw new Error(`a network fault (${action.kind}) needs nftables`);
    if (action.kind === 'split') firewall.split(action.group_a, action.group_b);
    else firewall.cutOneWay(action.from_id, action.to_id);
    this.heal = async () => {
      log('heal network');
      firewall.heal();
    };
  }

  async healAll(): Promise<void> {
    const heal = this.heal;
    this.heal = null;
    if (heal !== null) await heal();
  }
}

function describeAction(action: FaultAction): string {
  if (action.kind === 'kill' || action.kind === 'pause') return `${action.kind} node ${action.node_id}`;
  if (action.kind === 'split') return `partition [${action.group_a.join(',')}] | [${action.group_b.join(',')}]`;
  return `cut one way: ${action.from_id} cannot send to ${action.to_id}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
