/** The replacements of SQLite's clock and random functions, and the helpers behind them. */
import Database from 'better-sqlite3';
import { Engine } from '../../database/engine';
import { RANDOMBLOB_BYTES_MAX, formatSqliteTime, pinToContextTime } from '../../database/deterministic-functions';
import { SeededRandom } from '../../database/seeded-random';
import { readSessionCounters, restoreSessionCounters } from '../../database/snapshot';

const NOW = '2025-05-18 12:34:56.789';
import { FIXED_CONTEXT as CONTEXT } from '../support/engine';

describe('pinToContextTime', () => {
  const cases: Array<[string, unknown[], number, unknown[]]> = [
    ['no time value', [], 0, [NOW]],
    ["'now'", ['now'], 0, [NOW]],
    ["'NoW' with modifiers", ['NoW', '+1 day', 'start of month'], 0, [NOW, '+1 day', 'start of month']],
    ['another time value stays', ['2000-01-01', '+1 day'], 0, ['2000-01-01', '+1 day']],
    ["' now' is not 'now' (as in SQLite)", [' now'], 0, [' now']],
    ['a number stays', [2460000.5], 0, [2460000.5]],
    ['null stays', [null], 0, [null]],
    ['time-zone modifiers are dropped', ['now', 'localtime', 'UTC', '+1 hour'], 0, [NOW, '+1 hour']],
    ['strftime with only a format', ['%s'], 1, ['%s', NOW]],
    ["strftime with 'now'", ['%Y', 'now', 'LOCALTIME'], 1, ['%Y', NOW]],
    ['strftime without arguments', [], 1, []],
    ['timediff: any argument', ['now', 'NOW'], -1, [NOW, NOW]],
  ];
  test.each(cases)('%s', (_name, args, timeArgument, expected) => {
    expect(pinToContextTime(args as never[], timeArgument, NOW)).toEqual(expected);
  });

  test('formatSqliteTime writes what SQLite parses', () => {
    expect(formatSqliteTime(CONTEXT.timestamp_ms)).toBe(NOW);
    expect(formatSqliteTime(0)).toBe('1970-01-01 00:00:00.000');
  });
});

describe('SeededRandom', () => {
  test('the same seed gives the same stream; another seed another', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const streamA = Array.from({ length: 100 }, () => a.nextInt64());
    expect(Array.from({ length: 100 }, () => b.nextInt64())).toEqual(streamA);
    expect(Array.from({ length: 100 }, () => c.nextInt64())).not.toEqual(streamA);
    expect(new Set(streamA).size).toBe(100);
  });

  test('64-bit values cover both signs; bytes cover every value', () => {
    const random = new SeededRandom(1);
    const values = Array.from({ length: 1000 }, () => random.nextInt64());
    expect(values.some((value) => value < 0n)).toBe(true);
    expect(values.some((value) => value > 2n ** 53n)).toBe(true);
    expect(new Set(random.nextBytes(10_000)).size).toBe(256);
  });

  test('nextBytes gives any length', () => {
    const random = new SeededRandom(1);
    for (const length of [1, 3, 4, 5, 17]) expect(random.nextBytes(length)).toHaveLength(length);
  });
});

describe('the functions in SQL', () => {
  let engine: Engine;
  beforeEach(() => {
    engine = new Engine();
  });
  afterEach(() => engine.close());

  function select(expression: string, context = CONTEXT): unknown {
    const result = engine.apply({ type: 'sql', db_name: null, script: `SELECT ${expression}` }, context);
    if (!result.ok) return result.error.code;
    return (result.value as { rows: unknown[][] }).rows[0][0];
  }

  test('random() is a 64-bit integer from the seed; calls differ within one apply', () => {
    expect(select('typeof(random())')).toBe('integer');
    expect(select('random()')).toBe(select('random()'));
    expect(select('random() = random()')).toBe(0);
    expect(select('random()', { ...CONTEXT, seed: 8 })).not.toBe(select('random()'));
  });

  test('randomblob sizes follow SQLite', () => {
    expect(select('length(randomblob(8))')).toBe(8);
    expect(select('length(randomblob(0))')).toBe(1);
    expect(select('length(randomblob(-5))')).toBe(1);
    expect(select("length(randomblob('3'))")).toBe(3);
    expect(select('length(randomblob(NULL))')).toBe(1);
    expect(select(`randomblob(${RANDOMBLOB_BYTES_MAX + 1})`)).toBe('VALUE_TOO_LARGE');
  });

  test('CURRENT_* and the date functions read the context', () => {
    expect(select('CURRENT_TIMESTAMP')).toBe('2025-05-18 12:34:56');
    expect(select('CURRENT_DATE')).toBe('2025-05-18');
    expect(select('CURRENT_TIME')).toBe('12:34:56');
    expect(select("datetime('now', '+1 day')")).toBe('2025-05-19 12:34:56');
    expect(select('unixepoch()')).toBe(1_747_571_696);
    expect(select("strftime('%Y-%m-%d %H:%M:%f')")).toBe(NOW);
    expect(select("date('2000-02-03')")).toBe('2000-02-03');
    expect(select("timediff('now', '2025-05-18 12:34:55.789')")).toBe('+0000-00-00 00:00:01.000');
    expect(select('timediff(1)')).toBe('SQL_ERROR');
  });

  test('a connection that is not applying uses the real clock', () => {
    const { rows } = engine.query(null, "SELECT CURRENT_TIMESTAMP, datetime('now')") as { rows: string[][] };
    for (const text of rows[0]) {
      expect(Math.abs(Date.parse(`${text.replace(' ', 'T')}Z`) - Date.now())).toBeLessThan(60_000);
    }
  });
});

describe('session counters', () => {
  test.each([
    [0n, 0],
    [5n, 0],
    [0n, 3],
    [9_007_199_254_740_993n, 12],
    [-4n, 1],
  ])('last_insert_rowid %p and changes %p are restored', (last_insert_rowid, changes) => {
    const connection = new Database(Buffer.alloc(0));
    connection.exec('CREATE TABLE t (a); INSERT INTO t VALUES (1), (2)');
    restoreSessionCounters(connection, { last_insert_rowid, changes });
    expect(readSessionCounters(connection)).toEqual({ last_insert_rowid, changes });
    expect(connection.prepare('SELECT count(*) FROM sqlite_temp_schema').pluck().get()).toBe(0);
    connection.close();
  });
});
