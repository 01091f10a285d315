/**
 * A simulated network: every message gets a delay in ticks and may be lost or
 * duplicated; links can be cut one way or both. Every draw comes from the
 * injected seeded generator, so one seed replays the same traffic exactly.
 */
import type { Random } from '../support/random';

export interface NetworkFaults {
  drop_probability: number;
  duplicate_probability: number;
  delay_min_ticks: number;
  delay_max_ticks: number;
}

export interface Addressed {
  from: number;
  to: number;
}

/**
 * Far more messages in flight than any healthy run holds (at most 1,015 over
 * fault seeds 1..5000, 771 over 100000..104999): a message storm or a queue
 * that never drains. Thrown instead of eating memory (a storm reaches it in
 * seconds, not gigabytes); named like a liveness failure, and the scenario
 * adds the seed to replay.
 */
export const IN_FLIGHT_MAX = 100_000;

export class NetworkOverflow extends Error {
  override name = 'LivenessFailure';
}

export const CALM_NETWORK: NetworkFaults = { drop_probability: 0, duplicate_probability: 0, delay_min_ticks: 1, delay_max_ticks: 1 };

export class SimNetwork<M extends Addressed> {
  faults: NetworkFaults;
  private readonly queue = new Map<number, M[]>();
  /** Cut links, as "from>to". */
  private readonly cut = new Set<string>();
  private in_flight = 0;

  constructor(
    private readonly random: Random,
    faults: NetworkFaults,
  ) {
    this.faults = faults;
  }

  send(message: M, now_tick: number): void {
    if (this.isCut(message.from, message.to) || this.random.chance(this.faults.drop_probability)) return;
    this.enqueue(message, now_tick + this.delayTicks());
    if (this.random.chance(this.faults.duplicate_probability)) this.enqueue(message, now_tick + this.delayTicks());
  }

  /** Messages due at this tick, in random order (a cut made while in flight loses them too). */
  due(now_tick: number): M[] {
    const batch = this.queue.get(now_tick);
    if (batch === undefined) return [];
    this.queue.delete(now_tick);
    this.in_flight -= batch.length;
    return this.random.shuffle(batch.filter((message) => !this.isCut(message.from, message.to)));
  }

  /** Puts back a message its receiver could not take (paused), for the next tick. */
  postpone(message: M, now_tick: number): void {
    this.enqueue(message, now_tick + 1);
  }

  inFlightCount(): number {
    return this.in_flight;
  }

  cutLink(from: number, to: number): void {
    this.cut.add(`${from}>${to}`);
  }

  isCut(from: number, to: number): boolean {
    return this.cut.size > 0 && this.cut.has(`${from}>${to}`);
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

  /** Forgets what a node had sent (it crashed before the bytes left). */
  dropFrom(node_id: number): void {
    for (const [tick, batch] of this.queue) {
      const kept = batch.filter((message) => message.from !== node_id);
      this.in_flight -= batch.length - kept.length;
      this.queue.set(tick, kept);
    }
  }

  private delayTicks(): number {
    return this.random.integer(this.faults.delay_min_ticks, this.faults.delay_max_ticks);
  }

  private enqueue(message: M, at_tick: number): void {
    const batch = this.queue.get(at_tick);
    if (batch === undefined) this.queue.set(at_tick, [message]);
    else batch.push(message);
    this.in_flight += 1;
    if (this.in_flight > IN_FLIGHT_MAX) throw new NetworkOverflow(`network queue over ${IN_FLIGHT_MAX} messages`);
  }
}
