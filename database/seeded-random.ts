/**
 * The random stream of one apply: SplitMix32 over (seed, call counter). The
 * same seed gives the same stream on every node, and the counter restarts with
 * each apply, so an entry's random values depend only on the entry. Not
 * cryptographic: SQLite's random() is not either.
 */
const GOLDEN_GAMMA = 0x9e37_79b9;

export class SeededRandom {
  private counter = 0;

  constructor(private readonly seed: number) {}

  nextUint32(): number {
    this.counter++;
    let z = (this.seed + Math.imul(this.counter, GOLDEN_GAMMA)) | 0;
    z = Math.imul(z ^ (z >>> 16), 0x21f0_aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a_2d97);
    return (z ^ (z >>> 15)) >>> 0;
  }

  /** A signed 64-bit integer, as SQLite's random() returns. */
  nextInt64(): bigint {
    const high = BigInt(this.nextUint32());
    const low = BigInt(this.nextUint32());
    return BigInt.asIntN(64, (high << 32n) | low);
  }

  nextBytes(length: number): Buffer {
    const bytes = Buffer.allocUnsafe(length);
    let offset = 0;
    for (; offset + 4 <= length; offset += 4) bytes.writeUInt32LE(this.nextUint32(), offset);
    if (offset < length) {
      const last = this.nextUint32();
      for (let index = 0; offset < length; offset++, index++) bytes[offset] = (last >>> (8 * index)) & 0xff;
    }
    return bytes;
  }
}
