import { mix32 } from '../../src/replication/mix32';

describe('mix32 (the murmur3 finalizer)', () => {
  // Reference values from an independent implementation of fmix32 (Python, arbitrary precision masked to 32 bits).
  test.each<[number, number]>([
    [0, 0],
    [1, 1364076727],
    [2, 821347078],
    [12345, 1011272156],
    [0x7fffffff, 4190899880],
    [0x80000000, 1832674720],
    [0xffffffff, 2180083513],
    [0x9e3779b9, 2462723854],
  ])('mixes %i into %i', (value, mixed) => {
    expect(mix32(value)).toBe(mixed);
  });

  test.each<[number, number]>([
    [-1, 0xffffffff],
    [-2147483648, 0x80000000],
    [-1640531527, 0x9e3779b9],
  ])('reads %i as the int32 of %i', (signed, unsigned) => {
    expect(mix32(signed)).toBe(mix32(unsigned));
  });

  test('always answers an unsigned 32-bit integer', () => {
    for (const value of [-123456789, -1, 3, 0xdeadbeef, 2 ** 31 + 5]) {
      const mixed = mix32(value);
      expect(Number.isInteger(mixed) && mixed >= 0 && mixed < 2 ** 32).toBe(true);
    }
  });
});
