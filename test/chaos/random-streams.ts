/**
 * One chaos seed, independent streams. The nemesis and each client draw from
 * their own generator, forked from the seed in a fixed order, so how often one
 * of them draws (which depends on the timing of real processes) never shifts
 * another's draws. A new consumer forks after the existing ones, so adding one
 * keeps every old seed's streams.
 */
import { Random } from '../support/random';

export interface ChaosStreams {
  nemesis: Random;
  /** One per client, by client number. */
  clients: Random[];
}

export function deriveChaosStreams(seed: number, client_count: number): ChaosStreams {
  const root = new Random(seed);
  // The nemesis forks first: its schedule does not depend on how many clients run.
  const nemesis = root.fork();
  const clients = Array.from({ length: client_count }, () => root.fork());
  return { nemesis, clients };
}
