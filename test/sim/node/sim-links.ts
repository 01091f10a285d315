/**
 * The simulated network between nodes, in milliseconds: each message (and
 * each leg of a request and its answer) gets a delay, and may be lost or
 * delivered twice; links can be cut one way or both. Every draw comes from
 * the simulator's seeded generator.
 */
import type { Random } from '../../support/random';

export interface LinkFaults {
  drop_probability: number;
  duplicate_probability: number;
  delay_min_ms: number;
  delay_max_ms: number;
}

export const CALM_LINKS: LinkFaults = { drop_probability: 0, duplicate_probability: 0, delay_min_ms: 1, delay_max_ms: 1 };

export class SimLinks {
  faults: LinkFaults;
  private readonly cut = new Set<string>();

  constructor(
    private readonly random: Random,
    faults: LinkFaults,
  ) {
    this.faults = faults;
  }

  /** The delays of the copies of one message that arrive: none when it is lost. */
  deliveries(from: number, to: number): number[] {
    if (this.isCut(from, to) || this.random.chance(this.faults.drop_probability)) return [];
    const delays = [this.delay()];
    if (this.random.chance(this.faults.duplicate_probability)) delays.push(this.delay());
    return delays;
  }

  /** One leg of a request or of its answer (a TCP stream: never duplicated); null when it is lost. */
  leg(from: number, to: number): number | null {
    if (this.isCut(from, to) || this.random.chance(this.faults.drop_probability)) return null;
    return this.delay();
  }

  /**
   * How a request to a node that is down fails: refused (a fresh connection)
   * or reset (a kept-alive one the dead process had open), as over HTTP.
   */
  downCode(): 'ECONNREFUSED' | 'ECONNRESET' {
    return this.random.chance(0.5) ? 'ECONNREFUSED' : 'ECONNRESET';
  }

  isCut(from: number, to: number): boolean {
    return this.cut.size > 0 && this.cut.has(`${from}>${to}`);
  }

  cutLink(from: number, to: number): void {
    this.cut.add(`${from}>${to}`);
  }

  /** Splits the nodes into groups that cannot reach each other. */
  partition(groups: number[][]): void {
    for (const group of groups) {
      for (const other of groups) {
        if (other === group) continue;
        for (const from of group) for (const to of other) this.cutLink(from, to);
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  private delay(): number {
    return this.random.integer(this.faults.delay_min_ms, this.faults.delay_max_ms);
  }
}
