/**
 * Linearizability checker for chaos histories: is there one order of the operations that
 * respects real time (an operation that returned before another was invoked comes first) and
 * in which every operation obeys a single-copy register model?
 *
 * Keys are independent registers, and linearizability is compositional (Herlihy & Wing's
 * locality), so each key is checked on its own: many small searches instead of one huge one.
 *
 * The search is the one of Wing & Gong as improved by Lowe and used by Porcupine: events (calls
 * and returns) in a doubly linked list, depth-first, an operation is linearized by lifting its
 * call and return out of the list, a return reached while its call is still in the list means
 * a dead end, and a cache of (set of linearized operations, state) pairs prunes any search
 * state already explored. Extensions:
 *
 * - Nondeterministic steps: a model step returns every possible next state, and backtracking
 *   tries each in turn.
 * - Optional operations: an indeterminate ('info') operation may take effect at any moment
 *   after its invocation, or never. It gets a return at +infinity, so it never forces a
 *   dead end, and it is optional: the search succeeds once every required operation is
 *   linearized. This is equivalent to a step with two outcomes, "applied" and "had no effect",
 *   with the info operation required (the test suite checks that equivalence), but it does
 *   not branch on the "no effect" outcome, which changes nothing but the linearized set and
 *   would only multiply the cache.
 *
 * A violation can only be reported once every configuration before it has failed, so the cost
 * of a violation late in a long history is the number of configurations; four reductions,
 * each of which loses no linearization, keep that number down:
 *
 * - An observation (a read) that can be linearized is linearized at once, without a branch
 *   for "later": reads do not change the state, so doing them early never hurts.
 * - A configuration is skipped when a failed one has the same required operations, fewer
 *   optional ones and a state at least as useful (Model.covers).
 * - Indeterminate operations that do the same thing are interchangeable: only the earliest
 *   one not yet linearized is tried.
 * - The register model maps every value no read returned to one state (UNREAD).
 *
 * The search is exponential in the worst case, so it has a budget per key; a key that runs out
 * is reported as unknown, neither a violation nor a pass.
 */
import { Operation } from './history';

// ---------------------------------------------------------------------------------------------
// The generic search.

export interface Model<State, Input> {
  init: State;
  /** Every state the operation may leave behind; empty when it cannot happen in `state`. */
  step(state: State, input: Input): readonly State[];
  equal(a: State, b: State): boolean;
  /**
   * True for an operation that never changes the state (a read). When such an operation can
   * be linearized, doing so at once loses no linearization, so the search does not branch on
   * "later".
   */
  isObservation?(input: Input): boolean;
  /**
   * True when every continuation possible from state b is possible from state a (equal by
   * default). It lets the search skip a configuration that a failed one covers.
   */
  covers?(a: State, b: State): boolean;
  /**
   * Operations with equal keys do the same thing. Optional operations that do the same thing
   * are interchangeable once invoked, so the search applies them in invocation order only.
   */
  inputKey?(input: Input): string;
}

export interface SearchOperation<Input> {
  input: Input;
  call_ms: number;
  /** Infinity for an operation whose end nobody saw. */
  return_ms: number;
  /** An optional operation may stay out of the linearization (it never took effect). */
  optional: boolean;
}

export interface SearchBudget {
  steps_max: number;
  ms_max: number;
  clock: () => number;
}

/** Where the search got furthest before every path failed: the best witness of a violation. */
export interface DeepestFailure<State> {
  /** Indices of the operations linearized, in order. */
  linearized: number[];
  state: State;
  /** The operation whose return was reached while it could not be linearized. */
  blocking: number;
}

export type SearchResult<State> =
  | { verdict: 'linearizable'; steps: number }
  | { verdict: 'unknown'; steps: number }
  | { verdict: 'not_linearizable'; steps: number; deepest: DeepestFailure<State> };

const HEAD = 0;
const NIL = -1;

/**
 * At each configuration the search tries observations first (forced: see isObservation), then
 * the other required operations, then optional ones last, so that a configuration without an
 * optional operation is explored before the same one with it, and can then subsume it.
 */
const PHASE_OBSERVATION = 0;
const PHASE_REQUIRED = 1;
const PHASE_OPTIONAL = 2;

/** A configuration: the set of linearized operations and the state they leave. */
interface CacheEntry<State> {
  bits: Uint32Array;
  state: State;
  /** Every continuation from it was explored and failed. */
  failed: boolean;
}

interface Frame<State> {
  node: number;
  phase: number;
  alternative: number;
  forced: boolean;
  state_before: State;
  /** The configuration this step led to. */
  entry: CacheEntry<State>;
}

/** Where the walk over the event list resumes. */
interface Cursor {
  node: number;
  phase: number;
  alternative: number;
}

/** splitmix32: fixed per-operation hash keys, so a run is reproducible. */
function splitmix32(seed: number): number {
  let z = (seed + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * How `known` relates to `current`, two linearized sets: 'other' unless they hold the same
 * required operations; then 'equal', 'subset' (known has no optional operation that current
 * lacks) or 'other'.
 */
function compareSets(known: Uint32Array, current: Uint32Array, optional_mask: Uint32Array): 'equal' | 'subset' | 'other' {
  let equal = true;
  for (let word = 0; word < known.length; word++) {
    const a = known[word];
    const b = current[word];
    if (a === b) continue;
    equal = false;
    const optional = optional_mask[word];
    if (((a ^ b) & ~optional) !== 0 || (a & ~b & optional) !== 0) return 'other';
  }
  return equal ? 'equal' : 'subset';
}

/**
 * Linked-list events, each in one node; node 0 is the head. Calls and returns sorted by time,
 * calls first at equal times, so that intervals that touch count as overlapping.
 */
class EventList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly match: Int32Array;
  readonly operation_of: Int32Array;
  readonly is_call: Uint8Array;

  constructor(operations: readonly SearchOperation<unknown>[]) {
    const size = 2 * operations.length + 1;
    this.next = new Int32Array(size);
    this.prev = new Int32Array(size);
    this.match = new Int32Array(size);
    this.operation_of = new Int32Array(size);
    this.is_call = new Uint8Array(size);
    const events: { time: number; is_call: boolean; operation: number }[] = [];
    operations.forEach((operation, index) => {
      if (!(operation.return_ms >= operation.call_ms)) {
        throw new Error(`operation ${index} returns (${operation.return_ms}) before its call (${operation.call_ms})`);
      }
      if (operation.optional && operation.return_ms !== Infinity) {
        throw new Error(`optional operation ${index} must return at Infinity`);
      }
      events.push({ time: operation.call_ms, is_call: true, operation: index });
      events.push({ time: operation.return_ms, is_call: false, operation: index });
    });
    events.sort((a, b) =>
      a.time !== b.time ? (a.time < b.time ? -1 : 1)
        : a.is_call !== b.is_call ? (a.is_call ? -1 : 1)
          : a.operation - b.operation);
    this.link(events, operations.length);
  }

  private link(events: readonly { is_call: boolean; operation: number }[], operation_count: number): void {
    const call_node = new Int32Array(operation_count);
    let previous = HEAD;
    this.prev[HEAD] = NIL;
    events.forEach((event, position) => {
      const node = position + 1;
      this.prev[node] = previous;
      this.next[previous] = node;
      this.operation_of[node] = event.operation;
      this.is_call[node] = event.is_call ? 1 : 0;
      if (event.is_call) {
        call_node[event.operation] = node;
      } else {
        this.match[node] = call_node[event.operation];
        this.match[call_node[event.operation]] = node;
      }
      previous = node;
    });
    this.next[previous] = NIL;
  }

  /** Takes an operation's call and return out of the list. */
  lift(call: number): void {
    const ret = this.match[call];
    this.next[this.prev[call]] = this.next[call];
    if (this.next[call] !== NIL) this.prev[this.next[call]] = this.prev[call];
    this.next[this.prev[ret]] = this.next[ret];
    if (this.next[ret] !== NIL) this.prev[this.next[ret]] = this.prev[ret];
  }

  /** Exactly undoes lift(): the lifted nodes still hold their old neighbours. */
  unlift(call: number): void {
    const ret = this.match[call];
    this.next[this.prev[ret]] = ret;
    if (this.next[ret] !== NIL) this.prev[this.next[ret]] = ret;
    this.next[this.prev[call]] = call;
    if (this.next[call] !== NIL) this.prev[this.next[call]] = call;
  }
}

class LinearizationSearch<State, Input> {
  private readonly events: EventList;
  private readonly phase_of: Uint8Array;
  /** For an optional operation, the one invoked last before it that does the same; else -1. */
  private readonly previous_alike: Int32Array;
  // The linearized set, and a Zobrist hash of its required operations only, so that sets
  // differing in optional operations meet in one bucket, where one can subsume another.
  private readonly bits: Uint32Array;
  private readonly optional_mask: Uint32Array;
  private readonly zobrist_high: Uint32Array;
  private readonly zobrist_low: Uint32Array;
  private hash_high = 0;
  private hash_low = 0;
  private readonly cache = new Map<number, CacheEntry<State>[]>();
  private readonly stack: Frame<State>[] = [];
  private readonly covers: (a: State, b: State) => boolean;
  private state: State;
  private required_remaining = 0;
  private deepest: DeepestFailure<State> | null = null;

  constructor(
    private readonly model: Model<State, Input>,
    private readonly operations: readonly SearchOperation<Input>[],
  ) {
    const count = operations.length;
    this.events = new EventList(operations);
    this.phase_of = new Uint8Array(count);
    this.bits = new Uint32Array(Math.ceil(count / 32));
    this.optional_mask = new Uint32Array(Math.ceil(count / 32));
    this.zobrist_high = new Uint32Array(count);
    this.zobrist_low = new Uint32Array(count);
    operations.forEach((operation, index) => {
      if (operation.optional) {
        this.optional_mask[index >>> 5] |= 1 << (index & 31);
        this.phase_of[index] = PHASE_OPTIONAL;
      } else {
        this.zobrist_high[index] = splitmix32(2 * index);
        this.zobrist_low[index] = splitmix32(2 * index + 1);
        this.required_remaining++;
        this.phase_of[index] = model.isObservation?.(operation.input) ? PHASE_OBSERVATION : PHASE_REQUIRED;
      }
    });
    this.state = model.init;
    this.covers = model.covers ?? model.equal;
    this.previous_alike = this.chainAlikeOptionals();
  }

  private chainAlikeOptionals(): Int32Array {
    const previous_alike = new Int32Array(this.operations.length).fill(-1);
    const inputKey = this.model.inputKey;
    if (inputKey === undefined) return previous_alike;
    const last_by_key = new Map<string, number>();
    // Sorted as the event list sorts calls: by time, then by index.
    const optional = this.operations.flatMap((operation, index) => (operation.optional ? [index] : []))
      .sort((a, b) => this.operations[a].call_ms - this.operations[b].call_ms || a - b);
    for (const index of optional) {
      const key = inputKey(this.operations[index].input);
      previous_alike[index] = last_by_key.get(key) ?? -1;
      last_by_key.set(key, index);
    }
    return previous_alike;
  }

  private isLinearized(operation: number): boolean {
    return (this.bits[operation >>> 5] & (1 << (operation & 31))) !== 0;
  }

  run(budget: SearchBudget): SearchResult<State> {
    const started_ms = budget.clock();
    const { next, is_call, operation_of } = this.events;
    let cursor: Cursor = { node: next[HEAD], phase: PHASE_OBSERVATION, alternative: 0 };
    let steps = 0;
    while (this.required_remaining > 0) {
      steps++;
      // Reading the clock costs more than a step, so it is read every 1024 steps only.
      if (steps > budget.steps_max) return { verdict: 'unknown', steps };
      if ((steps & 1023) === 0 && budget.clock() - started_ms > budget.ms_max) return { verdict: 'unknown', steps };
      const { node, phase } = cursor;
      if (node === NIL) throw new Error('event list ended with required operations left');
      if (is_call[node] === 0) {
        // The first return of a pending operation: every operation that may go next has been
        // tried in this phase.
        if (phase < PHASE_OPTIONAL) {
          cursor = { node: next[HEAD], phase: phase + 1, alternative: 0 };
          continue;
        }
        this.recordDeepest(node);
        const resumed = this.backtrack();
        if (resumed === null) return { verdict: 'not_linearizable', steps, deepest: this.deepest! };
        cursor = resumed;
      } else if (this.phase_of[operation_of[node]] === phase && this.tryLinearize(cursor)) {
        cursor = { node: next[HEAD], phase: PHASE_OBSERVATION, alternative: 0 };
      } else {
        cursor = { node: next[node], phase, alternative: 0 };
      }
    }
    return { verdict: 'linearizable', steps };
  }

  /** Linearizes the operation of the cursor's call node now, trying its states from the cursor's. */
  private tryLinearize(cursor: Cursor): boolean {
    const operation = this.events.operation_of[cursor.node];
    const optional = this.operations[operation].optional;
    // Of interchangeable optional operations, the earliest not yet linearized stands for all.
    const alike = this.previous_alike[operation];
    if (alike !== -1 && !this.isLinearized(alike)) return false;
    const states = this.model.step(this.state, this.operations[operation].input);
    for (let alternative = cursor.alternative; alternative < states.length; alternative++) {
      // An optional operation that leaves nothing better than the state it found is better
      // left out: leaving it out keeps every continuation open.
      if (optional && this.covers(this.state, states[alternative])) continue;
      this.toggle(operation);
      const entry = this.remember(states[alternative]);
      if (entry !== null) {
        const forced = cursor.phase === PHASE_OBSERVATION;
        this.stack.push({ node: cursor.node, phase: cursor.phase, alternative, forced, state_before: this.state, entry });
        this.state = states[alternative];
        this.events.lift(cursor.node);
        if (!optional) this.required_remaining--;
        return true;
      }
      this.toggle(operation);
    }
    return false;
  }

  /**
   * Undoes steps until one has an untried alternative; null when none has. Every configuration
   * undone has failed; so has the one before a forced observation, since linearizing the
   * observation there lost nothing.
   */
  private backtrack(): Cursor | null {
    for (;;) {
      const frame = this.stack.pop();
      if (frame === undefined) return null;
      frame.entry.failed = true;
      const operation = this.events.operation_of[frame.node];
      this.state = frame.state_before;
      this.events.unlift(frame.node);
      this.toggle(operation);
      if (!this.operations[operation].optional) this.required_remaining++;
      if (!frame.forced) return { node: frame.node, phase: frame.phase, alternative: frame.alternative + 1 };
    }
  }

  /**
   * Records the configuration (linearized set, state); null when it needs no exploring: it was
   * seen before, or a failed one holds the same required operations, fewer optional ones and a
   * state that covers this one (an optional operation left out can still be linearized later,
   * so every continuation of this configuration is one of that one).
   */
  private remember(state: State): CacheEntry<State> | null {
    // 32 + 21 bits: the most a double holds exactly.
    const key = this.hash_high * 0x200000 + (this.hash_low >>> 11);
    let bucket = this.cache.get(key);
    if (bucket === undefined) this.cache.set(key, (bucket = []));
    for (const known of bucket) {
      const relation = compareSets(known.bits, this.bits, this.optional_mask);
      if (relation === 'other') continue;
      if (relation === 'equal' && this.model.equal(known.state, state)) return null;
      if (known.failed && this.covers(known.state, state)) return null;
    }
    const entry = { bits: this.bits.slice(), state, failed: false };
    bucket.push(entry);
    return entry;
  }

  private toggle(operation: number): void {
    this.bits[operation >>> 5] ^= 1 << (operation & 31);
    this.hash_high = (this.hash_high ^ this.zobrist_high[operation]) >>> 0;
    this.hash_low = (this.hash_low ^ this.zobrist_low[operation]) >>> 0;
  }

  private recordDeepest(return_node: number): void {
    if (this.deepest !== null && this.stack.length <= this.deepest.linearized.length) return;
    this.deepest = {
      linearized: this.stack.map((frame) => this.events.operation_of[frame.node]),
      state: this.state,
      blocking: this.events.operation_of[return_node],
    };
  }
}

/** Searches for a linearization of `operations` (any order; times define the real-time order). */
export function searchLinearization<State, Input>(
  model: Model<State, Input>,
  operations: readonly SearchOperation<Input>[],
  budget: SearchBudget,
): SearchResult<State> {
  return new LinearizationSearch(model, operations).run(budget);
}

// ---------------------------------------------------------------------------------------------
// The register model of one row.

/**
 * A value that no successful read returned. Such values are indistinguishable to every later
 * operation (a read cannot match them; the others only ask whether the row is present), so
 * the checker maps them all to this one state: fewer distinct states, a smaller search.
 */
export const UNREAD: unique symbol = Symbol('unread');

/** null: the row is absent. */
export type RegisterState = string | null | typeof UNREAD;

/**
 * What an operation does to, or says about, the row. The two observe kinds come from failed
 * operations whose error tells the row's state (see observe_failed_preconditions).
 */
export interface RegisterInput {
  kind: 'write' | 'update' | 'insert' | 'delete' | 'read' | 'observe_present' | 'observe_absent';
  value: RegisterState;
}

const NO_STATE: readonly RegisterState[] = [];

export function registerStep(state: RegisterState, input: RegisterInput): readonly RegisterState[] {
  switch (input.kind) {
    case 'write': return [input.value];
    case 'update': return state !== null ? [input.value] : NO_STATE;
    case 'insert': return state === null ? [input.value] : NO_STATE;
    case 'delete': return state !== null ? [null] : NO_STATE;
    case 'read': return state === input.value ? [state] : NO_STATE;
    case 'observe_present': return state !== null ? [state] : NO_STATE;
    case 'observe_absent': return state === null ? [state] : NO_STATE;
  }
}

export function registerModel(init: RegisterState): Model<RegisterState, RegisterInput> {
  return {
    init,
    step: registerStep,
    equal: (a, b) => a === b,
    isObservation: (input) => input.kind === 'read' || input.kind === 'observe_present' || input.kind === 'observe_absent',
    // Any present row offers what an unread one does: reads cannot see an unread value anyway.
    covers: (a, b) => a === b || (b === UNREAD && a !== null),
    inputKey: (input) => `${input.kind}:${input.value === UNREAD ? 'unread' : JSON.stringify(input.value)}`,
  };
}

// ---------------------------------------------------------------------------------------------
// From a recorded history to a verdict.

export interface CheckOptions {
  /** Steps of the search per key before its verdict is 'unknown'. */
  search_steps_max?: number;
  /** Milliseconds of search per key before its verdict is 'unknown'. */
  search_ms_max?: number;
  clock?: () => number;
  /** The state of a key before the run; absent keys start absent (null). */
  initial_values?: ReadonlyMap<string, string | null>;
  /**
   * Treat a failed insert with ROW_EXISTS as "the row was present" and a failed update or
   * delete with ROW_NOT_FOUND as "the row was absent", at some moment of the operation.
   * Off by default: it is sound only if the server produces those errors when it applies the
   * committed entry, not from a possibly stale check before proposing it. Off, every 'fail'
   * is dropped, which can miss a violation but never reports a false one.
   */
  observe_failed_preconditions?: boolean;
  /** At most this many operations are quoted per violation. */
  violation_ops_max?: number;
}

export interface Violation {
  key: string;
  /** The operations around the failure, in invocation order. */
  ops: Operation[];
  message: string;
}

export interface LinearizabilityResult {
  /** No violation was found; keys in unknown_keys were not decided either way. */
  valid: boolean;
  keys_checked: number;
  violations: Violation[];
  unknown_keys: string[];
}

/**
 * About 1.5 million steps a second on one core; the cache grows by roughly one configuration
 * (a few hundred bytes) every 30 steps, so the step limit also bounds memory to a few hundred MB.
 */
const DEFAULTS = {
  search_steps_max: 10_000_000,
  search_ms_max: 10_000,
  violation_ops_max: 40,
};

/**
 * What the checker makes of one operation; null when it carries no information. Failed
 * operations did nothing, and a read that failed or timed out saw nothing.
 */
export function registerInputOf(operation: Operation, observe_failed_preconditions: boolean):
  { input: RegisterInput; optional: boolean } | null {
  if (operation.outcome === 'fail') {
    if (!observe_failed_preconditions) return null;
    if (operation.kind === 'insert' && operation.error_code === 'ROW_EXISTS') {
      return { input: { kind: 'observe_present', value: null }, optional: false };
    }
    if ((operation.kind === 'update' || operation.kind === 'delete') && operation.error_code === 'ROW_NOT_FOUND') {
      return { input: { kind: 'observe_absent', value: null }, optional: false };
    }
    return null;
  }
  if (operation.kind === 'read' && operation.outcome !== 'ok') return null;
  const value = operation.kind === 'delete' ? null : operation.value;
  return { input: { kind: operation.kind, value }, optional: operation.outcome === 'info' };
}

function assertWellFormed(operation: Operation, index: number): void {
  const problem =
    !Number.isFinite(operation.invoke_ms) ? 'invoke_ms is not a finite number'
      : operation.outcome !== 'info' && operation.complete_ms === null ? `an '${operation.outcome}' operation has no complete_ms`
        : operation.complete_ms !== null && operation.complete_ms < operation.invoke_ms ? 'complete_ms is before invoke_ms'
          : operation.kind !== 'read' && operation.kind !== 'delete' && operation.value === null ? `a ${operation.kind} has no value`
            : null;
  if (problem !== null) throw new Error(`history operation ${index}: ${problem}`);
}

/** Groups the history by key, keeping each operation's position for error messages. */
function groupByKey(history: readonly Operation[]): Map<string, Operation[]> {
  const by_key = new Map<string, Operation[]>();
  history.forEach((operation, index) => {
    assertWellFormed(operation, index);
    let list = by_key.get(operation.key);
    if (list === undefined) by_key.set(operation.key, (list = []));
    list.push(operation);
  });
  return by_key;
}

function describe(operation: Operation): string {
  const value = operation.value === null ? 'absent' : JSON.stringify(operation.value);
  const what = operation.kind === 'read' ? `read -> ${value}` : operation.kind === 'delete' ? 'delete' : `${operation.kind} ${value}`;
  const end = operation.outcome === 'info' ? 'never known' : String(operation.complete_ms);
  return `process ${operation.process} ${what} (${operation.outcome}, invoked ${operation.invoke_ms} ms, completed ${end} ms)`;
}

/**
 * The operations around a failure: the last few of the longest linearizable prefix (they
 * explain the state), and those still pending when the blocking operation returned.
 */
function violationWindow(
  used: readonly Operation[], deepest: DeepestFailure<RegisterState>, ops_max: number,
): Operation[] {
  const blocking = used[deepest.blocking];
  const linearized = new Set(deepest.linearized);
  const window = new Set<number>(deepest.linearized.slice(-5));
  used.forEach((operation, index) => {
    if (!linearized.has(index) && operation.invoke_ms <= (blocking.complete_ms ?? Infinity)) window.add(index);
  });
  window.add(deepest.blocking);
  const ordered = [...window].sort((a, b) => used[a].invoke_ms - used[b].invoke_ms || a - b);
  // Keep the operations closest to the failure when there are too many.
  return ordered.slice(-ops_max).map((index) => used[index]);
}

function violationOf(
  key: string, used: readonly Operation[], deepest: DeepestFailure<RegisterState>, ops_max: number,
): Violation {
  const required = used.filter((operation) => operation.outcome !== 'info').length;
  const state = deepest.state === null ? 'absent' : deepest.state === UNREAD ? 'holding a value no read returned' : JSON.stringify(deepest.state);
  const message =
    `key ${JSON.stringify(key)} is not linearizable: the longest valid order covers ` +
    `${deepest.linearized.length} of ${used.length} operations (${required} acknowledged) and leaves the row ${state}; ` +
    `then ${describe(used[deepest.blocking])} cannot take effect in any order of the operations pending with it`;
  return { key, ops: violationWindow(used, deepest, ops_max), message };
}

type KeyVerdict =
  | { verdict: 'linearizable' | 'unknown' }
  | { verdict: 'not_linearizable'; violation: Violation };

function checkKey(key: string, operations: readonly Operation[], options: CheckOptions): KeyVerdict {
  const used: Operation[] = [];
  const search_operations: SearchOperation<RegisterInput>[] = [];
  for (const operation of operations) {
    const converted = registerInputOf(operation, options.observe_failed_preconditions ?? false);
    if (converted === null) continue;
    used.push(operation);
    search_operations.push({
      input: converted.input,
      call_ms: operation.invoke_ms,
      // An indeterminate operation may take effect at any moment after its invocation.
      return_ms: operation.outcome === 'info' ? Infinity : operation.complete_ms!,
      optional: converted.optional,
    });
  }
  const read_values = new Set(operations.filter((operation) => operation.kind === 'read' && operation.outcome === 'ok')
    .map((operation) => operation.value));
  const abstract = (value: RegisterState): RegisterState => (value === null || read_values.has(value as string) ? value : UNREAD);
  for (const operation of search_operations) operation.input.value = abstract(operation.input.value);
  const model = registerModel(abstract(options.initial_values?.get(key) ?? null));
  const result = searchLinearization(model, search_operations, {
    steps_max: options.search_steps_max ?? DEFAULTS.search_steps_max,
    ms_max: options.search_ms_max ?? DEFAULTS.search_ms_max,
    clock: options.clock ?? (() => performance.now()),
  });
  if (result.verdict !== 'not_linearizable') return { verdict: result.verdict };
  const ops_max = options.violation_ops_max ?? DEFAULTS.violation_ops_max;
  return { verdict: 'not_linearizable', violation: violationOf(key, used, result.deepest, ops_max) };
}

/** Checks every key of a history of writes and strong reads against the register model. */
export function checkLinearizable(history: readonly Operation[], options: CheckOptions = {}): LinearizabilityResult {
  const violations: Violation[] = [];
  const unknown_keys: string[] = [];
  const by_key = groupByKey(history);
  for (const [key, operations] of by_key) {
    const outcome = checkKey(key, operations, options);
    if (outcome.verdict === 'not_linearizable') violations.push(outcome.violation);
    if (outcome.verdict === 'unknown') unknown_keys.push(key);
  }
  return { valid: violations.length === 0, keys_checked: by_key.size, violations, unknown_keys };
}

/** A human-readable summary of a result, for test failures and chaos run logs. */
export function formatLinearizability(result: LinearizabilityResult): string {
  const lines = [
    `linearizability: ${result.valid ? 'no violation' : `${result.violations.length} violation(s)`} ` +
      `in ${result.keys_checked} key(s), ${result.unknown_keys.length} undecided`,
  ];
  if (result.unknown_keys.length > 0) lines.push(`  undecided (search budget ran out): ${result.unknown_keys.join(', ')}`);
  for (const violation of result.violations) {
    lines.push(`  ${violation.message}`);
    for (const operation of violation.ops) lines.push(`    ${describe(operation)}`);
  }
  return lines.join('\n');
}
