/**
 * Replacements for SQLite's non-deterministic functions, registered on every
 * database connection. While an entry is applied they answer from the entry's
 * ApplyContext (the master's clock reading and seed), so every node computes
 * the same values; outside apply (local reads) they answer from the real clock
 * and real randomness. SQLite lets application functions replace built-ins,
 * and it compiles CURRENT_TIMESTAMP, CURRENT_DATE and CURRENT_TIME (also in
 * DEFAULT clauses) into calls of functions by those names, so one override
 * covers each of them wherever it appears, triggers and defaults included.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import type { ApplyContext } from './commands';
import { DdbError } from '../utils/errors';
import { SeededRandom } from './seeded-random';
import { ENGINE_LIMITS_DEFAULT, type EngineLimits } from './limits';
import { integerOf, measuredSize, printfWidths } from './value-bounds';

/** Matches SQLite's parse of the time value 'now': exact, case-insensitive. */
const NOW = /^now$/i;
/** Modifiers that read the machine's time zone; inside apply the cluster's zone is UTC. */
const TIME_ZONE_MODIFIER = /^(localtime|utc)$/i;
/** Largest randomblob(N) served whatever the config, so one entry cannot make every node allocate without bound. */
export const RANDOMBLOB_BYTES_MAX = 64 * 1024 * 1024;

/**
 * Built-ins that make a value much larger than their arguments (and, nested,
 * exponentially larger): replaced by versions that refuse, with 400
 * VALUE_TOO_LARGE, a value over value_size_max_bytes before they make it, and
 * otherwise answer what the built-in answers (computed on the private
 * connection). Registered deterministic, as the built-ins are, so indexes and
 * generated columns that use them still work.
 */
const AMPLIFIERS: readonly string[] = ['printf', 'format', 'replace', 'hex', 'quote'];
/** Dates SQLite can represent: years 0000 to 9999. */
const TIMESTAMP_MS_MAX = 253_402_300_799_999;

/** The date functions, and the argument position of their time value (strftime's format comes first). */
const DATE_FUNCTIONS: ReadonlyMap<string, number> = new Map([
  ['date', 0],
  ['time', 0],
  ['datetime', 0],
  ['julianday', 0],
  ['unixepoch', 0],
  ['strftime', 1],
]);

type SqlValue = string | number | bigint | Buffer | null;

export class DeterministicFunctions {
  private context: ApplyContext | null = null;
  /** Made from the context on first use: most applies (row inserts) never ask for time or randomness. */
  private random: SeededRandom | null = null;
  /** The context time as SQLite writes it, 'YYYY-MM-DD HH:MM:SS.SSS'; made on first use, like random. */
  private nowText: string | null = null;
  /** A private connection with the real built-ins, never overridden, that computes the date functions. */
  private readonly builtins = new Database(':memory:');
  private readonly builtinStatements = new Map<string, Database.Statement>();
  private readonly value_size_max_bytes: number;

  constructor(limits: EngineLimits = ENGINE_LIMITS_DEFAULT) {
    this.value_size_max_bytes = limits.value_size_max_bytes;
  }

  /** Fixes the clock and the random stream for one apply; endApply() must follow. */
  beginApply(context: ApplyContext): void {
    assertContext(context);
    if (this.context !== null) throw new Error('beginApply: an apply is already in progress');
    this.context = context;
  }

  endApply(): void {
    this.context = null;
    this.random = null;
    this.nowText = null;
  }

  register(connection: Database.Database): void {
    connection.function('random', { deterministic: false }, () => this.randomInteger());
    connection.function('randomblob', { deterministic: false, safeIntegers: true }, (size: unknown) =>
      this.randomBlob(size),
    );
    connection.function('zeroblob', { deterministic: true, safeIntegers: true }, (size: unknown) => this.zeroBlob(size));
    for (const name of AMPLIFIERS) {
      const options = { deterministic: true, varargs: true, safeIntegers: true };
      connection.function(name, options, (...args: SqlValue[]) => this.boundedBuiltin(name, args));
    }
    // Constant for the whole apply, so deterministic lets SQLite compute them once per statement.
    connection.function('current_timestamp', { deterministic: true }, () => this.currentTime().slice(0, 19));
    connection.function('current_date', { deterministic: true }, () => this.currentTime().slice(0, 10));
    connection.function('current_time', { deterministic: true }, () => this.currentTime().slice(11, 19));
    for (const [name, timeArgument] of DATE_FUNCTIONS) {
      const options = { deterministic: true, varargs: true, safeIntegers: true };
      connection.function(name, options, (...args: SqlValue[]) => this.dateFunction(name, timeArgument, args));
    }
    connection.function('timediff', { deterministic: true, safeIntegers: true }, (a: SqlValue, b: SqlValue) =>
      this.dateFunction('timediff', -1, [a, b]),
    );
    // Counts every change since the connection opened, which differs between a node that
    // replayed the log and one restored from a snapshot.
    connection.function('total_changes', { deterministic: false }, () => {
      throw new DdbError('SQL_ERROR', 'total_changes() is not available: its value depends on the node');
    });
    // Refused by the sandbox already; this makes sure no path can call it.
    connection.function('load_extension', { varargs: true }, () => {
      throw new DdbError('FORBIDDEN_STATEMENT', 'load_extension() is not allowed: it loads code from outside the engine');
    });
  }

  close(): void {
    this.builtins.close();
  }

  private currentTime(): string {
    if (this.context === null) return formatSqliteTime(Date.now());
    this.nowText ??= formatSqliteTime(this.context.timestamp_ms);
    return this.nowText;
  }

  /** The apply's seeded stream; null outside an apply. */
  private contextRandom(): SeededRandom | null {
    if (this.context === null) return null;
    this.random ??= new SeededRandom(this.context.seed);
    return this.random;
  }

  private randomInteger(): bigint {
    const random = this.contextRandom();
    if (random === null) return randomBytes(8).readBigInt64LE(0);
    return random.nextInt64();
  }

  private randomBlob(size: unknown): Buffer {
    const size_bytes = Math.max(1, integerOf(size));
    this.checkSize('randomblob', size_bytes);
    const random = this.contextRandom();
    if (random === null) return randomBytes(size_bytes);
    return random.nextBytes(size_bytes);
  }

  private zeroBlob(size: unknown): Buffer {
    const size_bytes = Math.max(0, integerOf(size));
    this.checkSize('zeroblob', size_bytes);
    return Buffer.alloc(size_bytes);
  }

  /** The built-in's answer, once its arguments show it stays within the limit (and checked again after). */
  private boundedBuiltin(name: string, args: SqlValue[]): SqlValue {
    if (name === 'printf' || name === 'format') {
      for (const width of printfWidths(args)) this.checkSize(name, width);
    } else {
      this.checkSize(name, measuredSize(name, args));
    }
    const value = this.builtinStatement(name, args.length).get(...args) as SqlValue;
    if (typeof value === 'string' || Buffer.isBuffer(value)) this.checkSize(name, measuredSize('', [value]));
    return value;
  }

  private checkSize(name: string, size_bytes: number): void {
    const limit = Math.min(this.value_size_max_bytes, name === 'randomblob' ? RANDOMBLOB_BYTES_MAX : Infinity);
    if (size_bytes > limit) {
      throw new DdbError(
        'VALUE_TOO_LARGE',
        `${name}() would make a value of more than value_size_max_bytes (${limit} bytes)`,
      );
    }
  }

  private dateFunction(name: string, timeArgument: number, args: SqlValue[]): SqlValue {
    const effective = this.context === null ? args : pinToContextTime(args, timeArgument, this.currentTime());
    return this.builtinStatement(name, effective.length).get(...effective) as SqlValue;
  }

  private builtinStatement(name: string, arity: number): Database.Statement {
    const key = `${name}/${arity}`;
    let statement = this.builtinStatements.get(key);
    if (statement === undefined) {
      const placeholders = new Array(arity).fill('?').join(', ');
      statement = this.builtins.prepare(`SELECT ${name}(${placeholders})`).pluck().safeIntegers(true);
      this.builtinStatements.set(key, statement);
    }
    return statement;
  }
}

/**
 * Replaces 'now' (or a missing time value) with the context time and drops the
 * time-zone modifiers. timeArgument -1 means every argument is a time value
 * (timediff); otherwise arguments after it are modifiers.
 */
export function pinToContextTime(args: readonly SqlValue[], timeArgument: number, nowText: string): SqlValue[] {
  const isNow = (value: SqlValue): boolean => typeof value === 'string' && NOW.test(value);
  if (timeArgument < 0) return args.map((value) => (isNow(value) ? nowText : value));
  if (args.length < timeArgument) return [...args];
  const pinned = args.slice(0, timeArgument);
  const time = args.length === timeArgument || isNow(args[timeArgument]) ? nowText : args[timeArgument];
  pinned.push(time);
  for (const modifier of args.slice(timeArgument + 1)) {
    if (!(typeof modifier === 'string' && TIME_ZONE_MODIFIER.test(modifier))) pinned.push(modifier);
  }
  return pinned;
}

export function formatSqliteTime(timestamp_ms: number): string {
  const iso = new Date(timestamp_ms).toISOString(); // 2025-05-18T12:34:56.789Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

function assertContext(context: ApplyContext): void {
  const { timestamp_ms, seed } = context;
  if (!Number.isSafeInteger(timestamp_ms) || timestamp_ms < 0 || timestamp_ms > TIMESTAMP_MS_MAX) {
    throw new Error(`ApplyContext.timestamp_ms out of range: ${String(timestamp_ms)}`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new Error(`ApplyContext.seed must be a 32-bit unsigned integer: ${String(seed)}`);
  }
}

