/**
 * The history of a chaos run: what every client asked for, when, and what it was told.
 *
 * The checkers (linearizability.ts, set-check.ts) read these records; they never look at the
 * cluster. Times come from one monotonic clock shared by every client of a run, so that
 * "a returned before b was invoked" means the same thing for every pair of operations.
 */

/**
 * - write: an upsert, the row holds `value` afterwards whatever it held before.
 * - update: the update endpoint; it succeeds only on a present row (ROW_NOT_FOUND otherwise).
 * - insert: succeeds only on an absent row (ROW_EXISTS otherwise).
 * - delete: succeeds only on a present row (ROW_NOT_FOUND otherwise).
 * - read: a strong read of the row; `value` is what it saw, null when the row was absent.
 */
export type OperationKind = 'write' | 'update' | 'insert' | 'delete' | 'read';

/**
 * - ok: it happened, once, somewhere between invoke_ms and complete_ms.
 * - fail: it definitely did not change anything (validation error, ROW_EXISTS, ...).
 * - info: indeterminate (timeout, connection reset, NO_MASTER on a write): it may take effect
 *   at any moment after invoke_ms, or never.
 */
export type Outcome = 'ok' | 'fail' | 'info';

export interface Operation {
  /** The client that issued it; one client has at most one operation in flight. */
  process: number;
  /** The row id the operation acts on; keys are checked independently of each other. */
  key: string;
  kind: OperationKind;
  /** The value written, or for a read the value seen; null means "the row is absent". */
  value: string | null;
  invoke_ms: number;
  /** When the client heard back; null when it never did (the operation is then 'info'). */
  complete_ms: number | null;
  outcome: Outcome;
  /** The error code of a 'fail' (ROW_EXISTS, ROW_NOT_FOUND, ...), when the client knew it. */
  error_code?: string;
}

/** A monotonic clock in milliseconds; never a wall clock, which can step backwards. */
export type Clock = () => number;

/** Returned by invoke(); the only way to complete that operation. */
export interface OperationHandle {
  readonly index: number;
}

/**
 * Records operations as a harness performs them. An operation that is invoked and never
 * completed stays 'info' with complete_ms null: a client that crashed or was abandoned at the
 * end of the run cannot know whether its request took effect.
 */
export class HistoryRecorder {
  private readonly records: Operation[] = [];
  private readonly completed: boolean[] = [];
  /** The handle of each process's operation in flight, to catch a harness that overlaps them. */
  private readonly in_flight = new Map<number, number>();

  constructor(private readonly clock: Clock = () => performance.now()) {}

  invoke(process: number, key: string, kind: OperationKind, value: string | null): OperationHandle {
    const pending = this.in_flight.get(process);
    if (pending !== undefined) {
      throw new Error(`process ${process} invoked an operation while operation ${pending} is in flight`);
    }
    if (kind !== 'read' && kind !== 'delete' && value === null) {
      throw new Error(`a ${kind} needs a value (null is only for reads and deletes)`);
    }
    const index = this.records.length;
    // A read's value is unknown until it completes; deletes carry no value.
    const recorded_value = kind === 'read' || kind === 'delete' ? null : value;
    this.records.push({
      process, key, kind, value: recorded_value,
      invoke_ms: this.clock(), complete_ms: null, outcome: 'info',
    });
    this.completed.push(false);
    this.in_flight.set(process, index);
    return { index };
  }

  /** The operation took effect. A read passes the value it saw (null: the row was absent). */
  ok(handle: OperationHandle, value?: string | null): void {
    // Checked before completing, so that a harness mistake leaves the record untouched.
    const kind = this.inFlight(handle).kind;
    if (kind === 'read' && value === undefined) throw new Error('ok() of a read needs the value read');
    if (kind !== 'read' && value !== undefined) throw new Error(`ok() of a ${kind} takes no value`);
    const record = this.complete(handle, 'ok');
    if (value !== undefined) record.value = value;
  }

  /** The operation definitely had no effect; error_code says why, when known. */
  fail(handle: OperationHandle, error_code?: string): void {
    const record = this.complete(handle, 'fail');
    if (error_code !== undefined) record.error_code = error_code;
  }

  /** The client cannot tell whether the operation took effect. */
  info(handle: OperationHandle): void {
    this.complete(handle, 'info');
  }

  /** A copy of every operation so far, in invocation order. */
  operations(): Operation[] {
    return this.records.map((record) => ({ ...record }));
  }

  private inFlight(handle: OperationHandle): Operation {
    const record = this.records[handle.index];
    if (record === undefined) throw new Error(`unknown operation handle ${handle.index}`);
    if (this.completed[handle.index]) throw new Error(`operation ${handle.index} completed twice`);
    return record;
  }

  private complete(handle: OperationHandle, outcome: Outcome): Operation {
    const record = this.inFlight(handle);
    this.completed[handle.index] = true;
    this.in_flight.delete(record.process);
    record.complete_ms = this.clock();
    record.outcome = outcome;
    return record;
  }
}
