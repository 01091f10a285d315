/**
 * What a chaos client does next, drawn from that client's own stream only and
 * always with the same three draws (node, key, kind), so one seed gives every
 * client the same sequence of operations however the cluster answers and
 * however the clients interleave. How far each client gets in a run still
 * depends on the timing of the real processes.
 */
import type { Random } from '../support/random';

export type OperationKind = 'update' | 'sql-update' | 'strong-read' | 'sql-strong-read' | 'local-read' | 'insert';

export interface ClientOperation {
  kind: OperationKind;
  node_id: number;
  /** The register the operation is on; drawn for an insert too, which ignores it. */
  key: string;
}

/** The mix: a roll in [0, 1) below a bound picks its kind (25 % updates, 10 % SQL updates, ...). */
const KIND_BELOW: readonly (readonly [number, OperationKind])[] = [
  [0.25, 'update'],
  [0.35, 'sql-update'],
  [0.6, 'strong-read'],
  [0.7, 'sql-strong-read'],
  [0.8, 'local-read'],
  [1, 'insert'],
];

export function chooseOperation(random: Random, choices: { node_ids: readonly number[]; keys: readonly string[] }): ClientOperation {
  const node_id = random.pick(choices.node_ids);
  const key = random.pick(choices.keys);
  const roll = random.float();
  const kind = KIND_BELOW.find(([bound]) => roll < bound)?.[1] ?? 'insert';
  return { kind, node_id, key };
}
