import fc from 'fast-check';
import { HistoryRecorder, Operation, OperationKind, Outcome } from '../chaos/history';
import {
  checkLinearizable, formatLinearizability, LinearizabilityResult, Model, RegisterInput, RegisterState, registerInputOf,
  registerStep, searchLinearization, SearchOperation,
} from '../chaos/linearizability';

// ---------------------------------------------------------------------------------------------
// Helpers.

/** A row's value as clients see it; null: the row is absent. */
type Value = string | null;

interface OpSpec {
  process?: number;
  key?: string;
  kind: OperationKind;
  value?: string | null;
  at: [number, number | null];
  outcome?: Outcome;
  error_code?: string;
}

function op(spec: OpSpec): Operation {
  const operation: Operation = {
    process: spec.process ?? 0,
    key: spec.key ?? 'k',
    kind: spec.kind,
    value: spec.value ?? null,
    invoke_ms: spec.at[0],
    complete_ms: spec.at[1],
    outcome: spec.outcome ?? 'ok',
  };
  if (spec.error_code !== undefined) operation.error_code = spec.error_code;
  return operation;
}

const write = (value: string, at: [number, number | null], outcome: Outcome = 'ok', process = 0) =>
  op({ kind: 'write', value, at, outcome, process });
const read = (value: string | null, at: [number, number], process = 1) => op({ kind: 'read', value, at, process });

function isValid(history: Operation[]): boolean {
  const result = checkLinearizable(history);
  expect(result.unknown_keys).toEqual([]);
  return result.valid;
}

/** A seeded generator (mulberry32), so the performance history is the same on every run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// A simulated linearizable system: each operation takes effect at one instant inside its
// interval (an indeterminate one at any instant after its invocation, or never).

interface PlannedOperation {
  client: number;
  key: string;
  kind: OperationKind;
  gap_ms: number;
  before_effect_ms: number;
  after_effect_ms: number;
  info: boolean;
  info_applied: boolean;
  info_late_ms: number;
}

function precondition(kind: OperationKind, state: Value): boolean {
  if (kind === 'insert') return state === null;
  if (kind === 'update' || kind === 'delete') return state !== null;
  return true;
}

/** Lays the operations out in time, then applies them in order of their effect instants. */
function simulate(plans: readonly PlannedOperation[]): Operation[] {
  const clock_per_client = new Map<number, number>();
  const timed = plans.map((plan, index) => {
    const invoke_ms = (clock_per_client.get(plan.client) ?? 0) + plan.gap_ms;
    const complete_ms = invoke_ms + plan.before_effect_ms + plan.after_effect_ms;
    clock_per_client.set(plan.client, complete_ms);
    const effect_ms = invoke_ms + plan.before_effect_ms + (plan.info ? plan.info_late_ms : 0);
    return { plan, index, invoke_ms, complete_ms, effect_ms };
  });
  const history: Operation[] = new Array(plans.length);
  const state_per_key = new Map<string, Value>();
  const by_effect = [...timed].sort((a, b) => a.effect_ms - b.effect_ms || a.index - b.index);
  for (const { plan, index, invoke_ms, complete_ms } of by_effect) {
    const state = state_per_key.get(plan.key) ?? null;
    const value = plan.kind === 'read' ? state : plan.kind === 'delete' ? null : `v${index}`;
    const base = { process: plan.client, key: plan.key, kind: plan.kind, value, invoke_ms, complete_ms };
    if (plan.info) {
      // A timed-out read saw nothing; its value is garbage the checker must ignore.
      if (plan.kind === 'read') history[index] = { ...base, value: 'garbage', outcome: 'info' };
      else history[index] = { ...base, outcome: 'info', complete_ms: index % 2 === 0 ? null : complete_ms };
      if (plan.kind !== 'read' && plan.info_applied && precondition(plan.kind, state)) state_per_key.set(plan.key, value);
    } else if (precondition(plan.kind, state)) {
      history[index] = { ...base, outcome: 'ok' };
      if (plan.kind !== 'read') state_per_key.set(plan.key, value);
    } else {
      history[index] = { ...base, outcome: 'fail', error_code: plan.kind === 'insert' ? 'ROW_EXISTS' : 'ROW_NOT_FOUND' };
    }
  }
  return history;
}

const plannedOperation = (keys: string[], clients: number) => fc.record({
  client: fc.integer({ min: 0, max: clients - 1 }),
  key: fc.constantFrom(...keys),
  kind: fc.constantFrom<OperationKind>('write', 'update', 'insert', 'delete', 'read', 'read', 'read'),
  gap_ms: fc.integer({ min: 0, max: 5 }),
  before_effect_ms: fc.integer({ min: 0, max: 10 }),
  after_effect_ms: fc.integer({ min: 0, max: 10 }),
  info: fc.integer({ min: 0, max: 9 }).map((roll) => roll === 0),
  info_applied: fc.boolean(),
  info_late_ms: fc.integer({ min: 0, max: 40 }),
});

// ---------------------------------------------------------------------------------------------
// An independent reference: tries every order, without memo or linked lists.

interface ReferenceOperation { kind: OperationKind; value: Value; invoke_ms: number; return_ms: number; optional: boolean }

function referenceStep(kind: OperationKind, value: Value, state: Value): Value | undefined {
  if (!precondition(kind, state)) return undefined;
  if (kind === 'read') return state === value ? state : undefined;
  return kind === 'delete' ? null : value;
}

function bruteForceLinearizable(history: readonly Operation[]): boolean {
  const items: ReferenceOperation[] = history
    .filter((operation) => operation.outcome !== 'fail' && !(operation.kind === 'read' && operation.outcome !== 'ok'))
    .map((operation) => ({
      kind: operation.kind, value: operation.value, invoke_ms: operation.invoke_ms,
      return_ms: operation.outcome === 'info' ? Infinity : operation.complete_ms!, optional: operation.outcome === 'info',
    }));
  const done = items.map(() => false);
  const search = (state: Value): boolean => {
    if (items.every((item, index) => item.optional || done[index])) return true;
    return items.some((item, index) => {
      if (done[index]) return false;
      // Something that returned before this one was invoked must already be in the order.
      if (items.some((other, j) => !done[j] && j !== index && other.return_ms < item.invoke_ms)) return false;
      const next = referenceStep(item.kind, item.value, state);
      if (next === undefined) return false;
      done[index] = true;
      const found = search(next);
      done[index] = false;
      return found;
    });
  };
  return search(null);
}

/**
 * Up to 7 operations on one key. Written values come from a pool larger than the values read,
 * so some are never read (the checker's UNREAD abstraction), and info operations are common
 * enough to meet alike ones (its interchangeable-optional rule).
 */
const smallHistory = fc.array(fc.record({
  kind: fc.constantFrom<OperationKind>('write', 'update', 'insert', 'delete', 'read', 'read'),
  written: fc.constantFrom('a', 'b', 'c', 'd'),
  read: fc.constantFrom<Value>('a', 'b', null),
  invoke_ms: fc.integer({ min: 0, max: 20 }),
  duration_ms: fc.integer({ min: 0, max: 10 }),
  outcome: fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'info', 'info', 'fail'),
  forgotten: fc.boolean(),
}), { maxLength: 7 }).map((records) => records.map((record, index): Operation => ({
  process: index,
  key: 'k',
  kind: record.kind,
  value: record.kind === 'delete' ? null : record.kind === 'read' ? record.read : record.written,
  invoke_ms: record.invoke_ms,
  complete_ms: record.outcome === 'info' && record.forgotten ? null : record.invoke_ms + record.duration_ms,
  outcome: record.outcome,
})));

// ---------------------------------------------------------------------------------------------

describe('checkLinearizable: classic histories', () => {
  test('sequential writes and reads that see them are linearizable', () => {
    expect(isValid([write('a', [0, 10]), read('a', [20, 30]), write('b', [40, 50]), read('b', [60, 70])])).toBe(true);
  });

  test('a stale read after an acknowledged write is a violation', () => {
    const history = [write('a', [0, 10]), write('b', [20, 30]), read('a', [40, 50])];
    const result = checkLinearizable(history);
    expect(result.valid).toBe(false);
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0].key).toBe('k');
    expect(result.violations[0].ops).toContainEqual(history[2]);
    expect(result.violations[0].message).toContain('read -> "a"');
  });

  test('two readers that see two concurrent writes in opposite orders are a violation', () => {
    const history = [
      write('a', [0, 100], 'ok', 10), write('b', [0, 100], 'ok', 11),
      read('a', [10, 20], 1), read('b', [30, 40], 1),
      read('b', [10, 20], 2), read('a', [30, 40], 2),
    ];
    expect(isValid(history)).toBe(false);
    // Either reader alone is fine.
    expect(isValid(history.slice(0, 4))).toBe(true);
    expect(isValid([...history.slice(0, 2), ...history.slice(4)])).toBe(true);
  });

  test('a read of a value never written is a violation', () => {
    expect(isValid([write('a', [0, 10]), read('zzz', [5, 20])])).toBe(false);
  });

  test('overlapping operations may take effect in any order inside their intervals', () => {
    const history = [
      write('a', [0, 50], 'ok', 0), read(null, [10, 20], 1), read('a', [15, 60], 2),
      write('b', [30, 70], 'ok', 3), read('b', [65, 80], 1), read('b', [0, 100], 4),
    ];
    expect(isValid(history)).toBe(true);
  });

  test('operations that touch at one instant count as concurrent', () => {
    expect(isValid([write('a', [0, 10]), read(null, [10, 20])])).toBe(true);
    expect(isValid([write('a', [0, 10]), read(null, [11, 20])])).toBe(false);
  });

  test('an indeterminate write may take effect, late, or never', () => {
    const before = [write('a', [0, 10]), write('b', [20, null], 'info')];
    expect(isValid([...before, read('b', [100, 110])])).toBe(true);
    expect(isValid([...before, read('a', [100, 110])])).toBe(true);
    expect(isValid([...before, read('a', [100, 110]), read('b', [500, 510])])).toBe(true);
    expect(isValid([write('a', [0, 10]), write('b', [20, 30], 'info'), read('a', [100, 110]), read('b', [500, 510])])).toBe(true);
  });

  test('an indeterminate write takes effect at most once and never before its invocation', () => {
    const before = [write('a', [0, 10]), write('b', [20, null], 'info')];
    expect(isValid([...before, read('b', [100, 110]), read('a', [120, 130])])).toBe(false);
    expect(isValid([write('a', [0, 10]), read('b', [12, 15]), write('b', [20, null], 'info')])).toBe(false);
  });

  test('an acknowledged insert that disappears is a lost write', () => {
    const history = [op({ kind: 'insert', value: 'a', at: [0, 10] }), read(null, [20, 30])];
    expect(isValid(history)).toBe(false);
    // With a delete that may have happened, the row may legitimately be gone.
    expect(isValid([...history, op({ kind: 'delete', at: [12, null], outcome: 'info' })])).toBe(true);
    expect(isValid([...history, op({ kind: 'delete', at: [12, 15], outcome: 'ok' })])).toBe(true);
  });

  test('insert needs an absent row; update and delete need a present one', () => {
    const insert = (value: string, at: [number, number]) => op({ kind: 'insert', value, at });
    expect(isValid([insert('a', [0, 10]), insert('b', [20, 30])])).toBe(false);
    expect(isValid([insert('a', [0, 10]), op({ kind: 'delete', at: [12, 15] }), insert('b', [20, 30])])).toBe(true);
    expect(isValid([op({ kind: 'delete', at: [0, 10] })])).toBe(false);
    expect(isValid([op({ kind: 'update', value: 'u', at: [0, 10] })])).toBe(false);
    expect(isValid([insert('a', [0, 10]), op({ kind: 'update', value: 'u', at: [20, 30] }), read('u', [40, 50])])).toBe(true);
    // An indeterminate insert on a present row had no effect.
    expect(isValid([insert('a', [0, 10]), op({ kind: 'insert', value: 'b', at: [20, null], outcome: 'info' }), read('a', [40, 50])])).toBe(true);
  });

  test('failed operations and reads that failed or timed out carry no information', () => {
    const history = [
      write('a', [0, 10]), write('c', [12, 14], 'fail'),
      op({ kind: 'read', value: 'nonsense', at: [20, 30], outcome: 'fail' }),
      op({ kind: 'read', value: 'nonsense', at: [20, null], outcome: 'info' }),
      read('a', [40, 50]),
    ];
    expect(isValid(history)).toBe(true);
    expect(isValid([...history, read('c', [60, 70])])).toBe(false);
  });

  test('failed preconditions are observations only when asked for', () => {
    const history = [op({ kind: 'insert', value: 'a', at: [0, 10], outcome: 'fail', error_code: 'ROW_EXISTS' })];
    expect(checkLinearizable(history).valid).toBe(true);
    expect(checkLinearizable(history, { observe_failed_preconditions: true }).valid).toBe(false);
    const after_insert = [op({ kind: 'insert', value: 'a', at: [0, 10] }), ...history.map((o) => ({ ...o, invoke_ms: 20, complete_ms: 30 }))];
    expect(checkLinearizable(after_insert, { observe_failed_preconditions: true }).valid).toBe(true);
    const missing_update = [op({ kind: 'update', value: 'u', at: [0, 10], outcome: 'fail', error_code: 'ROW_NOT_FOUND' })];
    expect(checkLinearizable(missing_update, { observe_failed_preconditions: true }).valid).toBe(true);
    expect(checkLinearizable([...after_insert, ...missing_update.map((o) => ({ ...o, invoke_ms: 40, complete_ms: 50 }))],
      { observe_failed_preconditions: true }).valid).toBe(false);
  });

  test('keys are checked independently and reported by key', () => {
    const history = [
      { ...write('a', [0, 10]), key: 'good' }, { ...read('a', [20, 30]), key: 'good' },
      { ...write('a', [0, 10]), key: 'bad' }, { ...read(null, [20, 30]), key: 'bad' },
    ];
    const result = checkLinearizable(history);
    expect(result.keys_checked).toBe(2);
    expect(result.violations.map((violation) => violation.key)).toEqual(['bad']);
    expect(result.violations[0].ops.every((operation) => operation.key === 'bad')).toBe(true);
    expect(formatLinearizability(result)).toContain('"bad" is not linearizable');
  });

  test('initial values stand for rows that existed before the run', () => {
    const history = [read('x', [0, 10]), op({ kind: 'delete', at: [20, 30] })];
    expect(checkLinearizable(history).valid).toBe(false);
    expect(checkLinearizable(history, { initial_values: new Map([['k', 'x']]) }).valid).toBe(true);
  });

  test('a key whose search runs out of budget is unknown, neither a pass nor a violation', () => {
    const history = [write('a', [0, 100]), write('b', [0, 100]), read('b', [110, 120]), read('a', [130, 140])];
    const result = checkLinearizable(history, { search_steps_max: 2 });
    expect(result).toEqual({ valid: true, keys_checked: 1, violations: [], unknown_keys: ['k'] });
    expect(checkLinearizable(history).valid).toBe(false);
  });

  test('the search time budget is read from the injected clock', () => {
    // Reaching the violation takes a few thousand steps; the clock is read every 1024.
    const history: Operation[] = [];
    for (let i = 0; i < 300; i++) history.push(write(`v${i}`, [i * 10, i * 10 + 45], 'ok', i % 5));
    history.push(read('v0', [5000, 5010]));
    let now_ms = 0;
    const result = checkLinearizable(history, { search_ms_max: 5_000, clock: () => (now_ms += 1_000) });
    expect(result.unknown_keys).toEqual(['k']);
    expect(checkLinearizable(history).valid).toBe(false);
  });

  test('a malformed history is a programming error', () => {
    expect(() => checkLinearizable([write('a', [10, 5])])).toThrow(/before invoke_ms/);
    expect(() => checkLinearizable([write('a', [0, null], 'ok')])).toThrow(/no complete_ms/);
    expect(() => checkLinearizable([op({ kind: 'write', value: null, at: [0, 1] })])).toThrow(/no value/);
  });
});

describe('HistoryRecorder', () => {
  test('records invocation and completion times from the injected clock', () => {
    let now_ms = 0;
    const recorder = new HistoryRecorder(() => now_ms);
    const written = recorder.invoke(1, 'k', 'write', 'a');
    now_ms = 5;
    const seen = recorder.invoke(2, 'k', 'read', null);
    now_ms = 7;
    recorder.ok(written);
    now_ms = 9;
    recorder.ok(seen, 'a');
    const failed = recorder.invoke(1, 'k', 'insert', 'b');
    recorder.fail(failed, 'ROW_EXISTS');
    const lost = recorder.invoke(1, 'k', 'write', 'c');
    recorder.info(lost);
    recorder.invoke(3, 'k', 'delete', null);
    expect(recorder.operations()).toEqual([
      { process: 1, key: 'k', kind: 'write', value: 'a', invoke_ms: 0, complete_ms: 7, outcome: 'ok' },
      { process: 2, key: 'k', kind: 'read', value: 'a', invoke_ms: 5, complete_ms: 9, outcome: 'ok' },
      { process: 1, key: 'k', kind: 'insert', value: 'b', invoke_ms: 9, complete_ms: 9, outcome: 'fail', error_code: 'ROW_EXISTS' },
      { process: 1, key: 'k', kind: 'write', value: 'c', invoke_ms: 9, complete_ms: 9, outcome: 'info' },
      { process: 3, key: 'k', kind: 'delete', value: null, invoke_ms: 9, complete_ms: null, outcome: 'info' },
    ]);
    expect(checkLinearizable(recorder.operations()).valid).toBe(true);
  });

  test('rejects harness mistakes', () => {
    const recorder = new HistoryRecorder(() => 0);
    const first = recorder.invoke(1, 'k', 'read', null);
    expect(() => recorder.invoke(1, 'k', 'read', null)).toThrow(/in flight/);
    expect(() => recorder.ok(first)).toThrow(/value read/);
    recorder.ok(first, null);
    expect(() => recorder.ok(first, null)).toThrow(/twice/);
    expect(() => recorder.invoke(1, 'k', 'write', null)).toThrow(/needs a value/);
    const written = recorder.invoke(1, 'k', 'write', 'a');
    expect(() => recorder.ok(written, 'a')).toThrow(/takes no value/);
  });

  test('defaults to the monotonic performance clock', () => {
    const recorder = new HistoryRecorder();
    const handle = recorder.invoke(1, 'k', 'write', 'a');
    recorder.ok(handle);
    const [recorded] = recorder.operations();
    expect(recorded.complete_ms!).toBeGreaterThanOrEqual(recorded.invoke_ms);
  });
});

describe('checkLinearizable: properties', () => {
  test('every history of a simulated linearizable system is linearizable', () => {
    fc.assert(fc.property(
      fc.array(plannedOperation(['k1', 'k2'], 5), { maxLength: 60 }), fc.boolean(),
      (plans, observe_failed_preconditions) => {
        const result = checkLinearizable(simulate(plans), { observe_failed_preconditions });
        expect(result.unknown_keys).toEqual([]);
        expect(result.violations).toEqual([]);
      },
    ), { numRuns: 300 });
  });

  test('reading a value never written makes such a history non-linearizable', () => {
    fc.assert(fc.property(fc.array(plannedOperation(['k1', 'k2'], 5), { minLength: 1, maxLength: 60 }), fc.nat(),
      (plans, choice) => {
        const history = simulate(plans);
        const reads = history.flatMap((operation, index) => (operation.kind === 'read' && operation.outcome === 'ok' ? [index] : []));
        fc.pre(reads.length > 0);
        const mutated = history.map((operation) => ({ ...operation }));
        const target = mutated[reads[choice % reads.length]];
        target.value = 'never-written';
        const result = checkLinearizable(mutated);
        expect(result.valid).toBe(false);
        expect(result.violations.map((violation) => violation.key)).toEqual([target.key]);
      },
    ), { numRuns: 300 });
  });

  test('agrees with a brute-force search over every order on small arbitrary histories', () => {
    let violations_seen = 0;
    fc.assert(fc.property(smallHistory, (history) => {
      const expected = bruteForceLinearizable(history);
      if (!expected) violations_seen++;
      expect(checkLinearizable(history).valid).toBe(expected);
    }), { numRuns: 2000 });
    // The generator must exercise both verdicts, or the comparison proves little.
    expect(violations_seen).toBeGreaterThan(100);
  });

  /**
   * The textbook encoding: an info operation must be linearized, and its step has two outcomes,
   * applied or not. No reduction (forced reads, subsumption, interchangeable info operations,
   * unread values). It exercises the search's nondeterministic steps.
   */
  interface BranchingInput { input: RegisterInput; may_have_no_effect: boolean }
  const branching: Model<RegisterState, BranchingInput> = {
    init: null,
    step: (state, { input, may_have_no_effect }) =>
      may_have_no_effect ? [...registerStep(state, input), state] : registerStep(state, input),
    equal: (a, b) => a === b,
  };

  function branchingVerdict(history: readonly Operation[]): string {
    const operations: SearchOperation<BranchingInput>[] = history.flatMap((operation) => {
      const converted = registerInputOf(operation, false);
      if (converted === null) return [];
      return [{
        input: { input: converted.input, may_have_no_effect: converted.optional },
        call_ms: operation.invoke_ms,
        return_ms: converted.optional ? Infinity : operation.complete_ms!,
        optional: false,
      }];
    });
    return searchLinearization(branching, operations, { steps_max: 10_000_000, ms_max: 60_000, clock: () => performance.now() }).verdict;
  }

  test('optional info operations agree with info operations that branch on "applied or not"', () => {
    fc.assert(fc.property(smallHistory, (history) => {
      expect(branchingVerdict(history)).toBe(checkLinearizable(history).valid ? 'linearizable' : 'not_linearizable');
    }), { numRuns: 1000 });
  });

  test('agrees with the search without reductions on longer histories with one read changed', () => {
    const verdicts = new Map<string, number>();
    fc.assert(fc.property(fc.array(plannedOperation(['k'], 4), { minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(),
      (plans, read_choice, value_choice) => {
        const history = simulate(plans);
        const reads = history.filter((operation) => operation.kind === 'read' && operation.outcome === 'ok');
        const values = [null, ...history.flatMap((operation) => (operation.kind !== 'read' && operation.value !== null ? [operation.value] : []))];
        fc.pre(reads.length > 0);
        // Another value the row held at some point: sometimes still possible, often not.
        const target = reads[read_choice % reads.length];
        const changed = history.map((operation) => (operation === target ? { ...operation, value: values[value_choice % values.length] } : operation));
        const expected = branchingVerdict(changed);
        verdicts.set(expected, (verdicts.get(expected) ?? 0) + 1);
        expect(checkLinearizable(changed).valid ? 'linearizable' : 'not_linearizable').toBe(expected);
      },
    ), { numRuns: 500 });
    expect(verdicts.get('linearizable')).toBeGreaterThan(50);
    expect(verdicts.get('not_linearizable')).toBeGreaterThan(50);
  });
});

describe('checkLinearizable: speed', () => {
  function randomPlans(seed: number, keys: string[], clients: number, count: number, info_probability: number): PlannedOperation[] {
    const random = seededRandom(seed);
    const kinds: OperationKind[] = ['write', 'write', 'read', 'read', 'read', 'insert', 'delete', 'update'];
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    return Array.from({ length: count }, () => ({
      client: Math.floor(random() * clients),
      key: pick(keys),
      kind: pick(kinds),
      gap_ms: random() * 2,
      before_effect_ms: random() * 20,
      after_effect_ms: random() * 20,
      info: random() < info_probability,
      info_applied: random() < 0.5,
      info_late_ms: random() * 200,
    }));
  }

  function timeCheck(label: string, history: Operation[]): LinearizabilityResult {
    const started_ms = performance.now();
    const result = checkLinearizable(history);
    const elapsed_ms = performance.now() - started_ms;
    const verdict = result.valid ? (result.unknown_keys.length > 0 ? 'undecided' : 'valid') : 'violation';
    console.log(`${label}: ${history.length} operations checked in ${elapsed_ms.toFixed(0)} ms (${verdict})`);
    return result;
  }

  /** Makes the read at `fraction` of the history return the value of a write long overwritten. */
  function staleReadAt(history: Operation[], fraction: number): Operation[] {
    const reads = history.flatMap((operation, index) => (operation.kind === 'read' && operation.outcome === 'ok' ? [index] : []));
    const target = history[reads[Math.floor(reads.length * fraction)]];
    // Values are unique. If a write returned before another write began, and that one returned
    // before the read began, the read cannot see the first one's value.
    const writes = history.filter((operation) => operation.key === target.key && operation.outcome === 'ok' && operation.kind === 'write');
    const last = writes.filter((operation) => operation.complete_ms! < target.invoke_ms).pop()!;
    const stale = writes.filter((operation) => operation.complete_ms! < last.invoke_ms).pop()!;
    return history.map((operation) => (operation === target ? { ...operation, value: stale.value } : operation));
  }

  const five_keys = ['k0', 'k1', 'k2', 'k3', 'k4'];

  test('5 keys x 2,000 operations from 10 clients', () => {
    const result = timeCheck('5 keys x 2,000 ops, 10 clients, 1% info', simulate(randomPlans(1, five_keys, 10, 10_000, 0.01)));
    expect(result).toMatchObject({ valid: true, keys_checked: 5, unknown_keys: [] });
  });

  test('1 key x 2,000 operations from 10 clients, all on the same row', () => {
    const result = timeCheck('1 key x 2,000 ops, 10 clients, 1% info', simulate(randomPlans(2, ['k'], 10, 2_000, 0.01)));
    expect(result).toMatchObject({ valid: true, unknown_keys: [] });
  });

  test('a stale read late in 5 keys x 2,000 operations is found', () => {
    const history = staleReadAt(simulate(randomPlans(3, five_keys, 10, 10_000, 0.01)), 0.9);
    const result = timeCheck('5 keys x 2,000 ops, 1% info, stale read at 90%', history);
    expect(result.violations).toHaveLength(1);
  });

  test('a stale read late in 1 key x 2,000 operations from 10 clients is found', () => {
    const history = staleReadAt(simulate(randomPlans(4, ['k'], 10, 2_000, 0)), 0.9);
    const result = timeCheck('1 key x 2,000 ops, no info, stale read at 90%', history);
    expect(result.violations).toHaveLength(1);
  });
});
