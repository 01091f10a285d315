import { Random, createRandom } from '../support/random';

describe('Random (xoshiro128**)', () => {
  test('matches the reference output from the state (1, 2, 3, 4)', () => {
    const random = Random.fromState([1, 2, 3, 4]);
    expect([random.uint32(), random.uint32(), random.uint32()]).toEqual([11520, 0, 5927040]);
  });

  test('seeds through splitmix32 as it always has (the simulator replays recorded seeds)', () => {
    // Recorded before splitmix32 moved onto the shared mix32: a seed must keep naming the same run.
    const draw = (seed: number) => {
      const random = new Random(seed);
      return [random.uint32(), random.uint32(), random.uint32(), random.uint32()];
    };
    expect(draw(0)).toEqual([3809008728, 1133695204, 53579671, 2891528803]);
    expect(draw(1)).toEqual([2442144158, 3238099751, 3819917871, 2104621829]);
    expect(draw(42)).toEqual([2837322924, 544945897, 479756282, 3500138142]);
    expect(draw(-7)).toEqual([4105674630, 1549025917, 1462909597, 1494321277]);
  });

  test('one seed, one sequence; another seed, another sequence', () => {
    const draw = (seed: number) => {
      const random = createRandom(seed);
      return Array.from({ length: 8 }, () => random.uint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  test('integer stays in range and reaches both ends', () => {
    const random = new Random(7);
    const seen = new Set<number>();
    for (let count = 0; count < 2000; count += 1) {
      const value = random.integer(-2, 3);
      expect(value).toBeGreaterThanOrEqual(-2);
      expect(value).toBeLessThanOrEqual(3);
      seen.add(value);
    }
    expect([...seen].sort((left, right) => left - right)).toEqual([-2, -1, 0, 1, 2, 3]);
    expect(() => random.integer(3, 2)).toThrow(/bad range/);
  });

  test('float and next are in [0, 1); shuffle keeps the items; fork is independent but reproducible', () => {
    const random = new Random(1);
    for (let count = 0; count < 1000; count += 1) {
      const value = random.next();
      expect(value >= 0 && value < 1).toBe(true);
    }
    expect(random.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
    const first = new Random(9).fork();
    const second = new Random(9).fork();
    expect(first.uint32()).toBe(second.uint32());
    expect(() => new Random(1.5)).toThrow(/integer/);
    expect(() => Random.fromState([0, 0, 0, 0])).toThrow(/all-zero/);
  });
});
