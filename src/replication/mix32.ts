/**
 * One 32-bit integer mixer (the murmur3 finalizer, fmix32) for everything that
 * wants well-spread bits from a small integer without a random generator: the
 * replica's campaign back-off and the test generator's splitmix32 seeding.
 * Pure, so the replica may use it; one copy, so the two cannot drift apart.
 *
 * database/seeded-random.ts keeps its own finalizer on purpose: its constants
 * differ, and its output is replicated data (SQLite's random() on every node),
 * so moving it onto this one would change what existing logs apply to.
 */

// Bound once: global lookups are slow inside jest's vm context, where the simulator runs this hot.
const imul = Math.imul;

/** Mixes the 32 bits of `value` (read as an int32, so -1 and 0xffffffff mix alike) into an unsigned 32-bit integer. */
export function mix32(value: number): number {
  let mixed = imul(value ^ (value >>> 16), 0x85ebca6b);
  mixed = imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
  return (mixed ^ (mixed >>> 16)) >>> 0;
}
