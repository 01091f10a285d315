/**
 * A small seeded pseudo-random generator (xoshiro128**, seeded through
 * splitmix32). One seed reproduces a whole run: the deterministic simulator
 * derives every delay, loss, partition and crash from one of these, and
 * anything in production that wants randomness in a pure module takes one
 * injected instead of calling Math.random().
 */

import { mix32 } from '../../src/replication/mix32';

const UINT32_RANGE = 0x1_0000_0000;
// Bound once: inside a vm context (jest) every `Math.` lookup goes through the sandbox's global object,
// which made the simulator four times slower.
const imul = Math.imul;
const floor = Math.floor;
const isInteger = Number.isInteger;

/** splitmix32: spreads a 32-bit seed into well-mixed state words (a golden-ratio step, then the shared mixer). */
function splitmix32(state: { value: number }): number {
  state.value = (state.value + 0x9e3779b9) | 0;
  return mix32(state.value);
}

function rotateLeft(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}

export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!isInteger(seed)) throw new Error(`Random: the seed must be an integer, got ${seed}`);
    // State words are kept as int32 throughout (| 0) so the engine stores them as small integers.
    const state = { value: seed | 0 };
    this.s0 = splitmix32(state) | 0;
    this.s1 = splitmix32(state) | 0;
    this.s2 = splitmix32(state) | 0;
    this.s3 = splitmix32(state) | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator in a given state (for test vectors); the state must not be all zero. */
  static fromState(state: readonly [number, number, number, number]): Random {
    const random = new Random(0);
    [random.s0, random.s1, random.s2, random.s3] = state.map((word) => word | 0) as [number, number, number, number];
    if ((random.s0 | random.s1 | random.s2 | random.s3) === 0) throw new Error('Random.fromState: an all-zero state');
    return random;
  }

  /** The next value in [0, 2^32). */
  uint32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2 ^ s0;
    const s3 = this.s3 ^ s1;
    const result = imul(rotateLeft(imul(s1, 5), 7), 9) >>> 0;
    this.s0 = s0 ^ s3;
    this.s1 = s1 ^ s2;
    this.s2 = s2 ^ (s1 << 9);
    this.s3 = rotateLeft(s3, 11);
    return result;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.uint32() / UINT32_RANGE;
  }

  /** The same as float(), for callers that want a `{ next(): number }` source. */
  next(): number {
    return this.float();
  }

  /** An integer in [min, max], both included. */
  integer(min: number, max: number): number {
    if (!isInteger(min) || !isInteger(max) || max < min) {
      throw new Error(`Random.integer: bad range [${min}, ${max}]`);
    }
    return min + floor(this.float() * (max - min + 1));
  }

  /** True with the given probability (0..1). */
  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Random.pick: no items');
    return items[this.integer(0, items.length - 1)] as T;
  }

  /** Shuffles in place (Fisher–Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let index = items.length - 1; index > 0; index -= 1) {
      const other = this.integer(0, index);
      const held = items[index] as T;
      items[index] = items[other] as T;
      items[other] = held;
    }
    return items;
  }

  /** An independent generator derived from this one, for a sub-system that must not shift the others' draws. */
  fork(): Random {
    return new Random(this.uint32() | 0);
  }
}

export function createRandom(seed: number): Random {
  return new Random(seed);
}
