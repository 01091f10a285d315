/**
 * Network partitions between real processes, with nftables. Every node of a
 * chaos cluster has its own loopback address (127.0.0.11, .12, ...) and its
 * peer connections leave from it, so a rule on (source, destination, port)
 * cuts exactly one direction of peer traffic: "a cannot send to b" drops a's
 * packets to b's port and b's answers from that port, while b can still open
 * connections to a. Everything lives in one table of our own, removed at the end.
 */
import { execFileSync } from 'node:child_process';

export interface Endpoint {
  id: number;
  host: string;
  port: number;
}

export class Firewall {
  private readonly table: string;
  private installed = false;
  private readonly cuts = new Set<string>();

  constructor(private readonly endpoints: Map<number, Endpoint>) {
    this.table = `ddb_chaos_${process.pid}`;
  }

  static available(): boolean {
    try {
      execFileSync('nft', ['list', 'tables'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  private nft(script: string): void {
    execFileSync('nft', ['-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
  }

  install(): void {
    this.nft(`add table inet ${this.table}\nadd chain inet ${this.table} output { type filter hook output priority 0; policy accept; }\n`);
    this.installed = true;
  }

  /** Rebuilds the chain from the set of one-way cuts. */
  private apply(): void {
    const rules = [...this.cuts].map((cut) => {
      const [from, to] = cut.split('>').map(Number);
      const a = this.endpoints.get(from) as Endpoint;
      const b = this.endpoints.get(to) as Endpoint;
      return [
        `add rule inet ${this.table} output ip saddr ${a.host} ip daddr ${b.host} tcp dport ${b.port} drop`,
        `add rule inet ${this.table} output ip saddr ${b.host} ip daddr ${a.host} tcp sport ${b.port} drop`,
      ].join('\n');
    });
    this.nft(`flush chain inet ${this.table} output\n${rules.join('\n')}\n`);
  }

  /** a can no longer send to b (b can still send to a). */
  cutOneWay(from: number, to: number): void {
    this.cuts.add(`${from}>${to}`);
    this.apply();
  }

  /** No traffic between the two groups, in either direction. */
  split(groupA: number[], groupB: number[]): void {
    for (const a of groupA) {
      for (const b of groupB) {
        this.cuts.add(`${a}>${b}`);
        this.cuts.add(`${b}>${a}`);
      }
    }
    this.apply();
  }

  heal(): void {
    if (this.cuts.size === 0) return;
    this.cuts.clear();
    this.apply();
  }

  describe(): string {
    return [...this.cuts].join(' ');
  }

  remove(): void {
    if (!this.installed) return;
    this.installed = false;
    try {
      this.nft(`delete table inet ${this.table}\n`);
    } catch {
      // already gone
    }
  }
}
