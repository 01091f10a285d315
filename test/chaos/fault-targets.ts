/**
 * Turns a scheduled fault's rule into the nodes it hits, given who is master
 * when the step comes. Pure, and it draws nothing: the cluster's answer changes
 * which node a rule lands on, never the schedule.
 */
import type { Fault } from './fault-schedule';

export type FaultAction =
  | { kind: 'kill'; node_id: number }
  | { kind: 'pause'; node_id: number }
  | { kind: 'split'; group_a: number[]; group_b: number[] }
  | { kind: 'cut-one-way'; from_id: number; to_id: number };

/** Whether applying the fault needs to know the current master. */
export function needsMaster(fault: Fault): boolean {
  if (fault.kind === 'kill' || fault.kind === 'pause') return fault.victim.rule === 'master';
  if (fault.kind === 'isolate-master') return true;
  return fault.kind === 'asymmetric' && fault.pair === 'master-and-other';
}

export function faultAction(fault: Fault, master_id: number | null, node_ids: readonly number[]): FaultAction {
  if (fault.kind === 'kill' || fault.kind === 'pause') {
    const node_id = fault.victim.rule === 'node' ? fault.victim.id : (master_id ?? fault.victim.fallback_id);
    return { kind: fault.kind, node_id };
  }
  if (fault.kind === 'partition') return { kind: 'split', group_a: [...fault.minority], group_b: [...fault.majority] };
  if (fault.kind === 'isolate-master') {
    const isolated = master_id ?? fault.fallback_id;
    return { kind: 'split', group_a: [isolated], group_b: node_ids.filter((id) => id !== isolated) };
  }
  const first = fault.pair === 'first-two' ? (fault.order[0] as number) : (master_id ?? (fault.order[0] as number));
  const second = fault.order.find((id) => id !== first) as number;
  const [from_id, to_id] = fault.reversed ? [second, first] : [first, second];
  return { kind: 'cut-one-way', from_id, to_id };
}
