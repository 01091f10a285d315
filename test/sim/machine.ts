/**
 * The simulator's state machine: it keeps only the hash chain of what it
 * applied (state_hash = hash(previous state_hash, entry)), which is enough to
 * see two nodes diverge, and serializes to a snapshot.
 */
import type { Entry } from '../../src/replication/messages';

export interface MachineState {
  applied_index: number;
  applied_term: number;
  state_hash: number;
}

export const EMPTY_MACHINE: MachineState = { applied_index: 0, applied_term: 0, state_hash: 0x811c9dc5 };

const imul = Math.imul; // bound once: a global lookup is slow inside jest's vm context

/** FNV-1a over a string, continuing from `seed` (not cryptographic; the checker also compares data). */
export function fnv1a(seed: number, text: string): number {
  let hash = seed >>> 0;
  for (let position = 0; position < text.length; position += 1) {
    hash ^= text.charCodeAt(position);
    hash = imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export function applyEntry(state: MachineState, entry: Entry<string>): MachineState {
  const text = `${entry.index}:${entry.term}:${entry.data === null ? '-' : `"${entry.data}"`}`;
  return { applied_index: entry.index, applied_term: entry.term, state_hash: fnv1a(state.state_hash, text) };
}

export function encodeMachine(state: MachineState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(state));
}

export function decodeMachine(data: Uint8Array): MachineState {
  return JSON.parse(new TextDecoder().decode(data)) as MachineState;
}
