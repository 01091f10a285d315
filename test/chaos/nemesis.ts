/**
 * The nemesis: injects one fault at a time into a real cluster, chosen from
 * the fault mix by a seeded generator, and heals it before the next one.
 * Kinds: kill (SIGKILL, restart later), pause (SIGSTOP, SIGCONT later),
 * partition (a random minority cut off), isolate-master (the master alone),
 * asymmetric (one direction of the links between the master and a slave, or
 * between two slaves, cut).
 */
import type { TestCluster } from '../support/cluster';
import type { Random } from '../support/random';
import type { Firewall } from './firewall';

export const FAULT_KINDS = ['kill', 'pause', 'partition', 'isolate-master', 'asymmetric'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface NemesisOptions {
  cluster: TestCluster;
  firewall: Firewall | null;
  random: Random;
  kinds: FaultKind[];
  /** How long a fault lasts, and the quiet time between faults. */
  fault_ms: number;
  quiet_ms: number;
  log: (line: string) => void;
}

export class Nemesis {
  readonly injected = new Map<FaultKind, number>();
  private heal: (() => Promise<void>) | null = null;

  constructor(private readonly options: NemesisOptions) {
    for (const kind of options.kinds) this.injected.set(kind, 0);
  }

  /** Runs faults until `until_ms` (a performance.now() time), then heals everything. */
  async run(until_ms: number): Promise<void> {
    const { random, kinds, fault_ms, quiet_ms } = this.options;
    while (performance.now() + fault_ms < until_ms) {
      await sleep(quiet_ms);
      const kind = random.pick(kinds);
      await this.inject(kind);
      this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
      await sleep(fault_ms);
      await this.healAll();
    }
  }

  private async masterOrRandom(): Promise<number> {
    const { cluster, random } = this.options;
    for (const id of random.shuffle([...cluster.ids()])) {
      const status = await cluster.status(id);
      if (status?.master_id != null) return status.master_id;
    }
    return random.pick(cluster.ids());
  }

  private async inject(kind: FaultKind): Promise<void> {
    const { cluster, firewall, random, log } = this.options;
    const ids = cluster.ids();
    if ((kind === 'partition' || kind === 'isolate-master' || kind === 'asymmetric') && firewall === null) {
      throw new Error(`fault ${kind} needs nftables`);
    }
    if (kind === 'kill') {
      const victim = random.chance(0.5) ? await this.masterOrRandom() : random.pick(ids);
      log(`kill node ${victim}`);
      await cluster.signal(victim, 'SIGKILL');
      this.heal = async () => {
        log(`restart node ${victim}`);
        cluster.start(victim);
      };
    } else if (kind === 'pause') {
      const victim = random.chance(0.5) ? await this.masterOrRandom() : random.pick(ids);
      log(`pause node ${victim}`);
      await cluster.signal(victim, 'SIGSTOP');
      this.heal = async () => {
        log(`resume node ${victim}`);
        await cluster.signal(victim, 'SIGCONT');
      };
    } else if (kind === 'partition') {
      const order = random.shuffle([...ids]);
      const minority = order.slice(0, Math.floor((ids.length - 1) / 2) || 1);
      const majority = order.slice(minority.length);
      log(`partition [${minority.join(',')}] | [${majority.join(',')}]`);
      firewall?.split(minority, majority);
      this.heal = async () => this.healFirewall();
    } else if (kind === 'isolate-master') {
      const master = await this.masterOrRandom();
      log(`isolate master ${master}`);
      firewall?.split([master], ids.filter((id) => id !== master));
      this.heal = async () => this.healFirewall();
    } else {
      const master = await this.masterOrRandom();
      const [a, b] = random.chance(0.5) ? [master, random.pick(ids.filter((id) => id !== master))] : random.shuffle([...ids]).slice(0, 2);
      const [from, to] = random.chance(0.5) ? [a, b] : [b, a];
      log(`cut one way: ${from} cannot send to ${to}`);
      firewall?.cutOneWay(from, to);
      this.heal = async () => this.healFirewall();
    }
  }

  private async healFirewall(): Promise<void> {
    this.options.log('heal network');
    this.options.firewall?.heal();
  }

  async healAll(): Promise<void> {
    const heal = this.heal;
    this.heal = null;
    if (heal !== null) await heal();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
