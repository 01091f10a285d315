/**
 * A chaos seed replays: each client's operations, and the nemesis's schedule,
 * are a function of the seed alone — not of how often the others drew (the
 * timing of real processes) nor of what the cluster answered.
 */
import { chooseOperation, type ClientOperation } from '../chaos/client-operations';
import { FAULT_KINDS, formatFaultSchedule, planFaultSchedule, type FaultStep, type SchedulePlan } from '../chaos/fault-schedule';
import { faultAction, needsMaster, type FaultAction } from '../chaos/fault-targets';
import { Nemesis, type NemesisCluster, type NemesisFirewall } from '../chaos/nemesis';
import { deriveChaosStreams } from '../chaos/random-streams';
import { Random } from '../support/random';

const NODE_IDS = [1, 2, 3, 4, 5];
const KEYS = ['k0', 'k1', 'k2', 'k3'];
const CLIENT_COUNT = 8;
const OPERATIONS_PER_CLIENT = 50;

/**
 * Every client's first operations when the clients take turns in an order drawn from
 * `timing` (a stand-in for which HTTP answer comes back first).
 */
function operationsPerClient(seed: number, timing: Random): ClientOperation[][] {
  const streams = deriveChaosStreams(seed, CLIENT_COUNT);
  const operations: ClientOperation[][] = streams.clients.map(() => []);
  const unfinished = () => operations.map((done, client) => (done.length < OPERATIONS_PER_CLIENT ? client : -1)).filter((client) => client >= 0);
  for (let waiting = unfinished(); waiting.length > 0; waiting = unfinished()) {
    const client = timing.pick(waiting);
    operations[client]?.push(chooseOperation(streams.clients[client] as Random, { node_ids: NODE_IDS, keys: KEYS }));
  }
  return operations;
}

describe('chaos client streams', () => {
  test('one seed gives every client the same operations however the clients interleave', () => {
    const first = operationsPerClient(42, new Random(1));
    expect(operationsPerClient(42, new Random(2))).toEqual(first);
    expect(operationsPerClient(42, new Random(3))).toEqual(first);
  });

  test('another seed, other operations; and the clients do not repeat each other', () => {
    const first = operationsPerClient(42, new Random(1));
    expect(operationsPerClient(43, new Random(1))).not.toEqual(first);
    expect(new Set(first.map((operations) => JSON.stringify(operations))).size).toBe(CLIENT_COUNT);
  });

  test('the nemesis stream does not depend on the number of clients', () => {
    expect(deriveChaosStreams(42, 8).nemesis.uint32()).toBe(deriveChaosStreams(42, 3).nemesis.uint32());
  });

  test('the operation mix covers every kind, each on a node and a key from the choices', () => {
    const random = new Random(5);
    const operations = Array.from({ length: 2000 }, () => chooseOperation(random, { node_ids: NODE_IDS, keys: KEYS }));
    expect(new Set(operations.map((operation) => operation.kind))).toEqual(new Set(['update', 'sql-update', 'strong-read', 'sql-strong-read', 'local-read', 'insert']));
    expect(operations.every((operation) => NODE_IDS.includes(operation.node_id) && KEYS.includes(operation.key))).toBe(true);
  });
});

/** The chaos test's plan (30 s, 2.5 s faults after 1.5 s quiet) on five nodes. */
const PLAN: SchedulePlan = { kinds: FAULT_KINDS, node_ids: NODE_IDS, run_ms: 30_000, fault_ms: 2500, quiet_ms: 1500 };
const scheduleFor = (seed: number, plan: SchedulePlan = PLAN) => planFaultSchedule(deriveChaosStreams(seed, CLIENT_COUNT).nemesis, plan);

describe('chaos fault schedule', () => {
  test('one seed, one schedule; other seeds, other schedules', () => {
    expect(scheduleFor(42)).toEqual(scheduleFor(42));
    const printed = new Set(Array.from({ length: 20 }, (_unused, seed) => formatFaultSchedule(scheduleFor(seed)).join('\n')));
    expect(printed.size).toBe(20);
  });

  test('the steps fill the run: a fault every 4 s from 1.5 s, each over before the end', () => {
    const schedule = scheduleFor(42);
    expect(schedule.map((step) => [step.step, step.at_ms, step.duration_ms])).toEqual([0, 1, 2, 3, 4, 5, 6].map((index) => [index + 1, 1500 + index * 4000, 2500]));
    const lines = formatFaultSchedule(schedule);
    expect(lines).toHaveLength(7);
    for (const line of lines) expect(line).toMatch(/^step \d+ at \d+\.\d s for 2\.5 s: (kill|pause|partition|isolate|cut one way)/);
  });

  test('a rule that names the master lands on the master, or on its drawn node when none is known', () => {
    const kill = { kind: 'kill', victim: { rule: 'master', fallback_id: 4 } } as const;
    expect(faultAction(kill, 2, NODE_IDS)).toEqual({ kind: 'kill', node_id: 2 });
    expect(faultAction(kill, null, NODE_IDS)).toEqual({ kind: 'kill', node_id: 4 });
    expect(faultAction({ kind: 'isolate-master', fallback_id: 5 }, 3, NODE_IDS)).toEqual({ kind: 'split', group_a: [3], group_b: [1, 2, 4, 5] });
    const cut = { kind: 'asymmetric', pair: 'master-and-other', order: [3, 1, 5, 2, 4], reversed: true } as const;
    expect(faultAction(cut, 3, NODE_IDS)).toEqual({ kind: 'cut-one-way', from_id: 1, to_id: 3 });
    expect(faultAction(cut, 5, NODE_IDS)).toEqual({ kind: 'cut-one-way', from_id: 3, to_id: 5 });
    expect(faultAction({ ...cut, pair: 'first-two' }, 5, NODE_IDS)).toEqual({ kind: 'cut-one-way', from_id: 1, to_id: 3 });
  });
});

/** What a fake cluster and firewall saw, one line per fault. */
const observation = (action: FaultAction) =>
  action.kind === 'split' ? `split ${action.group_a}|${action.group_b}` : action.kind === 'cut-one-way' ? `cut ${action.from_id}>${action.to_id}` : `${action.kind} ${action.node_id}`;

type Answer = { master_id: number | null; term: number } | null;

/** A cluster whose node `id` answers `answer(id)` after `answer_ms`, and that records every fault. */
function fakeCluster(answer: (id: number) => Answer, answer_ms: number) {
  const seen: string[] = [];
  const cluster: NemesisCluster = {
    ids: () => [...NODE_IDS],
    status: async (id) => {
      await new Promise((resolve) => setTimeout(resolve, answer_ms));
      return answer(id);
    },
    signal: async (id, signal) => {
      if (signal === 'SIGKILL' || signal === 'SIGSTOP') seen.push(`${signal === 'SIGKILL' ? 'kill' : 'pause'} ${id}`);
    },
    start: () => undefined,
  };
  const firewall: NemesisFirewall = {
    split: (group_a, group_b) => void seen.push(`split ${group_a}|${group_b}`),
    cutOneWay: (from_id, to_id) => void seen.push(`cut ${from_id}>${to_id}`),
    heal: () => undefined,
  };
  return { cluster, firewall, seen };
}

async function play(schedule: readonly FaultStep[], answer: (id: number) => Answer, answer_ms: number): Promise<string[]> {
  const { cluster, firewall, seen } = fakeCluster(answer, answer_ms);
  await new Nemesis({ cluster, firewall, schedule, log: () => undefined }).run(performance.now());
  return seen;
}

describe('the nemesis plays its schedule', () => {
  // Short steps so the real timers take a fraction of a second.
  const fast: SchedulePlan = { ...PLAN, run_ms: 120, fault_ms: 4, quiet_ms: 2 };

  test('whatever the cluster answers, and however slowly, the same faults in the same order', async () => {
    const schedule = scheduleFor(7, fast);
    expect(schedule.some((step) => needsMaster(step.fault))).toBe(true);
    const expected = (master_id: number | null) => schedule.map((step) => observation(faultAction(step.fault, master_id, NODE_IDS)));
    const known = await play(schedule, () => ({ master_id: 2, term: 3 }), 0);
    const unknown = await play(schedule, (id) => (id === 1 ? null : { master_id: null, term: 3 }), 3);
    expect(known).toEqual(expected(2));
    expect(unknown).toEqual(expected(null));
    const kinds = (seen: string[]) => seen.map((line) => line.split(' ')[0]);
    expect(kinds(unknown)).toEqual(kinds(known));
    // And the schedule itself is still the one the seed gives.
    expect(schedule).toEqual(scheduleFor(7, fast));
  });

  test('the master is the one named at the highest term: a cut-off old master still names itself', async () => {
    const schedule: FaultStep[] = [{ step: 1, at_ms: 0, duration_ms: 1, fault: { kind: 'kill', victim: { rule: 'master', fallback_id: 5 } } }];
    const answer = (id: number): Answer => (id === 1 ? { master_id: 1, term: 2 } : id === 2 ? null : { master_id: 4, term: 3 });
    expect(await play(schedule, answer, 0)).toEqual(['kill 4']);
  });
});
