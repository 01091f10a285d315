/**
 * The nemesis's schedule, planned before the run from the nemesis's own stream:
 * when each fault starts, how long it lasts, its kind, and the rule that will
 * pick its nodes. Nothing here asks the cluster, so one seed always gives the
 * same schedule; a rule that names "the master" carries a drawn node for when
 * no master is known, and fault-targets.ts applies it to the live cluster.
 */
import type { Random } from '../support/random';

export const FAULT_KINDS = ['kill', 'pause', 'partition', 'isolate-master', 'asymmetric'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Who a kill or pause hits: whoever is master when the step comes (else `fallback_id`), or one drawn node. */
export type NodeRule = { rule: 'master'; fallback_id: number } | { rule: 'node'; id: number };

export type Fault =
  | { kind: 'kill'; victim: NodeRule }
  | { kind: 'pause'; victim: NodeRule }
  | { kind: 'partition'; minority: readonly number[]; majority: readonly number[] }
  | { kind: 'isolate-master'; fallback_id: number }
  /**
   * One direction of one link cut. `master-and-other`: the master (else order[0]) and the first
   * node of `order` that is not it; `first-two`: order[0] and order[1]. The first of the pair
   * cannot send to the second, or the other way round when `reversed`.
   */
  | { kind: 'asymmetric'; pair: 'master-and-other' | 'first-two'; order: readonly number[]; reversed: boolean };

export interface FaultStep {
  /** From 1. */
  step: number;
  /** When the fault starts, from the start of the nemesis. */
  at_ms: number;
  duration_ms: number;
  fault: Fault;
}

export interface SchedulePlan {
  kinds: readonly FaultKind[];
  node_ids: readonly number[];
  /** Every step starts and ends within the run. */
  run_ms: number;
  /** How long each fault lasts, and the quiet time before each. */
  fault_ms: number;
  quiet_ms: number;
}

/** Every kind draws the same values whatever the cluster will answer when the step comes. */
function drawFault(random: Random, kind: FaultKind, node_ids: readonly number[]): Fault {
  if (kind === 'kill' || kind === 'pause') {
    const at_master = random.chance(0.5);
    const id = random.pick(node_ids);
    const victim: NodeRule = at_master ? { rule: 'master', fallback_id: id } : { rule: 'node', id };
    return { kind, victim };
  }
  if (kind === 'partition') {
    const order = random.shuffle([...node_ids]);
    const minority_size = Math.max(1, Math.floor((node_ids.length - 1) / 2));
    return { kind, minority: order.slice(0, minority_size), majority: order.slice(minority_size) };
  }
  if (kind === 'isolate-master') return { kind, fallback_id: random.pick(node_ids) };
  const pair = random.chance(0.5) ? 'master-and-other' : 'first-two';
  const order = random.shuffle([...node_ids]);
  return { kind, pair, order, reversed: random.chance(0.5) };
}

export function planFaultSchedule(random: Random, plan: SchedulePlan): FaultStep[] {
  if (plan.fault_ms <= 0 || plan.quiet_ms < 0) throw new Error(`planFaultSchedule: bad timing (fault ${plan.fault_ms} ms, quiet ${plan.quiet_ms} ms)`);
  if (plan.kinds.includes('asymmetric') && plan.node_ids.length < 2) throw new Error('planFaultSchedule: an asymmetric cut needs two nodes');
  const steps: FaultStep[] = [];
  if (plan.kinds.length === 0) return steps;
  for (let at_ms = plan.quiet_ms; at_ms + plan.fault_ms <= plan.run_ms; at_ms += plan.quiet_ms + plan.fault_ms) {
    const kind = random.pick(plan.kinds);
    steps.push({ step: steps.length + 1, at_ms, duration_ms: plan.fault_ms, fault: drawFault(random, kind, plan.node_ids) });
  }
  return steps;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const group = (ids: readonly number[]) => `[${ids.join(',')}]`;

function describeFault(fault: Fault): string {
  if (fault.kind === 'kill' || fault.kind === 'pause') {
    return fault.victim.rule === 'node' ? `${fault.kind} node ${fault.victim.id}` : `${fault.kind} the master (node ${fault.victim.fallback_id} if none is known)`;
  }
  if (fault.kind === 'partition') return `partition ${group(fault.minority)} | ${group(fault.majority)}`;
  if (fault.kind === 'isolate-master') return `isolate the master (node ${fault.fallback_id} if none is known)`;
  const [first, second] =
    fault.pair === 'first-two'
      ? [`${fault.order[0]}`, `${fault.order[1]}`]
      : [`the master (${fault.order[0]} if none is known)`, `the first of ${group(fault.order)} that is not the master`];
  const [from, to] = fault.reversed ? [second, first] : [first, second];
  return `cut one way: ${from} cannot send to ${to}`;
}

/** One line per step, for example `step 2 at 5.5 s for 2.5 s: kill node 4`. */
export function formatFaultSchedule(steps: readonly FaultStep[]): string[] {
  if (steps.length === 0) return ['no faults'];
  return steps.map((step) => `step ${step.step} at ${seconds(step.at_ms)} for ${seconds(step.duration_ms)}: ${describeFault(step.fault)}`);
}
