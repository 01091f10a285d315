/**
 * The core requirement: the same commands with the same contexts give
 * byte-identical databases on any machine at any wall-clock time; a failed
 * command or script leaves no trace; a snapshot restores exactly.
 *
 * Time is injected, never waited for. The engine reads two clocks outside
 * apply: JavaScript's (Date.now, for CURRENT_*), which jest's fake timers set
 * here, and SQLite's own (the date functions' 'now'), which no test can set.
 * So the replay runs under another fake JavaScript time, and "the values come
 * from the context" pins every time-derived value of COMMANDS to the context's
 * 2025-05-18: a value taken from either real clock would be another date.
 */
import type { ApplyContext, ApplyResult, Command } from '../../database/commands';
import { Engine } from '../../database/engine';

const BASE_MS = Date.UTC(2025, 4, 18, 12, 34, 56, 789);

function contextAt(index: number, seed_offset = 0): ApplyContext {
  return { timestamp_ms: BASE_MS + index * 1_000, seed: (0x9e37_79b9 * (index + 1) + seed_offset) >>> 0 };
}

/** Every non-deterministic SQL feature the engine pins to the context. */
const COMMANDS: Command[] = [
  { type: 'init_database', db_name: 'app' },
  {
    type: 'sql',
    db_name: null,
    script: `CREATE TABLE events (
      id INTEGER PRIMARY KEY,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
      day DEFAULT CURRENT_DATE,
      clock DEFAULT CURRENT_TIME,
      token DEFAULT (random()),
      note TEXT)`,
  },
  { type: 'insert', db_name: null, table_name: 'events', row_id: '1', data: { note: 'defaults' } },
  {
    type: 'sql',
    db_name: null,
    script: `INSERT INTO events (note) VALUES (random()), (hex(randomblob(8))), (datetime('now')), (date()),
               (strftime('%s','now')), (julianday('NOW')), (unixepoch('now', 'subsec')), (time()),
               (datetime('now', 'localtime')), (timediff('now', '2000-01-01'));
             INSERT INTO events (note) SELECT random() FROM events;
             CREATE TABLE blobs (b);
             INSERT INTO blobs VALUES (randomblob(16)), (randomblob(3));`,
  },
  { type: 'create_table', db_name: 'main', table_name: 'students', columns: ['name', 'seen'] },
  {
    type: 'sql',
    db_name: 'main',
    script: "CREATE TRIGGER stamp AFTER INSERT ON students BEGIN UPDATE students SET seen = datetime('now') || random() WHERE row_id = new.row_id; END",
  },
  { type: 'insert', db_name: 'main', table_name: 'students', row_id: 'a', data: { name: 'Ahmed' } },
  { type: 'sql', db_name: null, script: 'INSERT INTO events (note) VALUES (last_insert_rowid() || \'/\' || changes())' },
  { type: 'sql', db_name: null, script: 'CREATE DATABASE other; USE other; CREATE TABLE t (a DEFAULT (random()), b); INSERT INTO t (b) VALUES (1)' },
];

function applyAll(engine: Engine, commands: Command[], seed_offset = 0, first_index = 0): ApplyResult[] {
  return commands.map((command, index) => engine.apply(command, contextAt(first_index + index, seed_offset)));
}

function images(engine: Engine): Map<string, Buffer> {
  return new Map(engine.listDatabases().map((name) => [name, Buffer.from(engine.serializeDatabase(name))]));
}

function expectSameImages(a: Engine, b: Engine): void {
  expectImages(b, images(a));
}

/**
 * Every database's serialize() bytes. (A snapshot also records connection
 * counters such as last_insert_rowid(), which a failed statement may move, as
 * it does on every node.)
 */
function expectImages(engine: Engine, left: Map<string, Buffer>): void {
  const right = images(engine);
  expect([...right.keys()]).toEqual([...left.keys()]);
  for (const [name, image] of left) {
    expect({ name, equal: Buffer.compare(image, right.get(name) as Buffer) === 0 }).toEqual({ name, equal: true });
  }
}

/** Wall-clock times for the two replays: another year than the context's, and apart by a day, an hour and 1.5 s. */
const FIRST_WALL_CLOCK_MS = Date.UTC(2031, 0, 2, 3, 4, 5, 6);
const SECOND_WALL_CLOCK_MS = FIRST_WALL_CLOCK_MS + 25 * 3_600_000 + 1_500;

describe('determinism', () => {
  const previousTimeZone = process.env.TZ;
  afterEach(() => {
    jest.useRealTimers();
    process.env.TZ = previousTimeZone;
  });

  test('the same commands give identical bytes at another wall-clock time, in another time zone', () => {
    jest.useFakeTimers({ now: FIRST_WALL_CLOCK_MS });
    process.env.TZ = 'UTC';
    const first = new Engine();
    const firstResults = applyAll(first, COMMANDS);
    expect(firstResults.filter((result) => !result.ok)).toEqual([]);

    jest.setSystemTime(SECOND_WALL_CLOCK_MS);
    process.env.TZ = 'Asia/Tokyo';
    const second = new Engine();
    const secondResults = applyAll(second, COMMANDS);

    expect(secondResults).toEqual(firstResults);
    expectSameImages(first, second);
    expect(Buffer.compare(Buffer.from(second.snapshot()), Buffer.from(first.snapshot()))).toBe(0);
    first.close();
    second.close();
  });

  test('the values come from the context', () => {
    const engine = new Engine();
    applyAll(engine, COMMANDS);
    const row = engine.getRow('app', 'events', '1');
    expect(row).toMatchObject({ created_at: '2025-05-18 12:34:58', day: '2025-05-18', clock: '12:34:58' });
    const notes = engine.query('app', 'SELECT note FROM events WHERE id BETWEEN 4 AND 11 ORDER BY id') as { rows: string[][] };
    expect(notes.rows.map(([note]) => note)).toEqual([
      '2025-05-18 12:34:59',
      '2025-05-18',
      '1747571699',
      '2460814.0243031136', // note is TEXT, so numbers are stored as their text
      '1747571699.789',
      '12:34:59',
      '2025-05-18 12:34:59', // localtime is UTC inside apply
      '+0025-04-17 12:34:59.789',
    ]);
    // The trigger's datetime('now') runs inside the insert of 'a', the seventh command.
    expect(engine.getRow('main', 'students', 'a')?.seen).toMatch(/^2025-05-18 12:35:02-?[0-9]+$/);
    engine.close();
  });

  test('a different context gives different bytes', () => {
    const a = new Engine();
    const b = new Engine();
    applyAll(a, COMMANDS);
    applyAll(b, COMMANDS, 1);
    expect(Buffer.compare(Buffer.from(a.serializeDatabase('app')), Buffer.from(b.serializeDatabase('app')))).not.toBe(0);
    a.close();
    b.close();
  });

  test('a node restored from a snapshot continues exactly like one that replayed the log', () => {
    for (let split = 0; split <= COMMANDS.length; split++) {
      const replayed = new Engine();
      const replayedResults = applyAll(replayed, COMMANDS);

      const before = new Engine();
      applyAll(before, COMMANDS.slice(0, split));
      const restored = new Engine();
      restored.restore(before.snapshot());
      const restoredResults = applyAll(restored, COMMANDS.slice(split), 0, split);

      expect({ split, results: restoredResults }).toEqual({ split, results: replayedResults.slice(split) });
      expectSameImages(replayed, restored);
      [replayed, before, restored].forEach((engine) => engine.close());
    }
  });
});

describe('atomic scripts', () => {
  let engine: Engine;
  beforeEach(() => {
    engine = new Engine();
    applyAll(engine, COMMANDS);
  });
  afterEach(() => engine.close());

  function failAndCompare(script: string, db_name: string | null = null): ApplyResult {
    const before = images(engine);
    const defaultDatabase = engine.defaultDatabase();
    const result = engine.apply({ type: 'sql', db_name, script }, contextAt(99));
    expect(result.ok).toBe(false);
    expect(engine.defaultDatabase()).toBe(defaultDatabase);
    expectImages(engine, before);
    return result;
  }

  test('the third statement fails: the first two leave nothing', () => {
    failAndCompare("INSERT INTO events (note) VALUES ('x'); UPDATE events SET note = 'changed'; INSERT INTO nowhere VALUES (1)");
  });

  test('changes in several databases, a USE, a new table and a failure', () => {
    failAndCompare(
      'INSERT INTO main.students (row_id) VALUES (1); USE main; CREATE TABLE fresh (a); ' +
        "INSERT INTO fresh VALUES (1); USE app; DELETE FROM events; SELECT * FROM nowhere",
    );
  });

  test('databases created and dropped before the failure come back as they were', () => {
    const result = failAndCompare(
      'CREATE DATABASE brand_new; USE brand_new; CREATE TABLE t (a); DROP DATABASE other; ' +
        'USE app; DROP TABLE events; DROP DATABASE app; CREATE DATABASE other; USE other; SELECT 1/0 FROM nowhere',
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'SQL_ERROR' } });
    expect(engine.select('app', 'events').count).toBeGreaterThan(0);
    expect(engine.select('other', 't').count).toBe(1);
  });

  test('a constraint failure and a RAISE(ROLLBACK) in a trigger roll back the whole script', () => {
    engine.apply({ type: 'sql', db_name: 'main', script: 'CREATE TABLE u (a UNIQUE)' }, contextAt(50));
    failAndCompare('INSERT INTO u VALUES (1); INSERT INTO u VALUES (1)', 'main');
    engine.apply(
      {
        type: 'sql',
        db_name: 'main',
        script: "CREATE TABLE guarded (a); CREATE TRIGGER g BEFORE INSERT ON guarded WHEN new.a < 0 BEGIN SELECT RAISE(ROLLBACK, 'negative'); END",
      },
      contextAt(51),
    );
    const result = failAndCompare('INSERT INTO guarded VALUES (1); INSERT INTO guarded VALUES (-1)', 'main');
    expect(result).toMatchObject({ ok: false, error: { code: 'SQL_ERROR', message: 'statement 1: negative', details: { statement_index: 1 } } });
  });

  test('a deferred foreign key violation fails the commit and rolls back every database', () => {
    engine.apply(
      {
        type: 'sql',
        db_name: 'main',
        script: 'CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (pid REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)',
      },
      contextAt(60),
    );
    failAndCompare('INSERT INTO child VALUES (5)', 'main');
    failAndCompare("INSERT INTO app.events (note) VALUES ('x'); USE main; INSERT INTO child VALUES (5)", 'app');
  });
});

describe('rejected commands leave the bytes unchanged', () => {
  const rejected: Array<[string, Command]> = [
    ['a duplicate row', { type: 'insert', db_name: 'main', table_name: 'students', row_id: 'a', data: {} }],
    ['an unknown column', { type: 'insert', db_name: 'main', table_name: 'students', row_id: 'z', data: { age: 1 } }],
    ['a missing row', { type: 'update', db_name: 'main', table_name: 'students', row_id: 'z', new_data: { name: 'x' } }],
    ['a missing table', { type: 'drop_table', db_name: 'main', table_name: 'nope' }],
    ['an existing table', { type: 'create_table', db_name: 'main', table_name: 'students', columns: [] }],
    ['a constraint', { type: 'insert', db_name: 'app', table_name: 'events', row_id: 'x', data: {} }],
    ['a forbidden statement', { type: 'sql', db_name: null, script: 'VACUUM' }],
    ['a failing script', { type: 'sql', db_name: null, script: "INSERT INTO events (note) VALUES ('x'); SELECT * FROM nope" }],
    ['a database that exists', { type: 'sql', db_name: null, script: 'CREATE DATABASE other' }],
  ];
  test.each(rejected)('%s', (_name, command) => {
    const engine = new Engine();
    applyAll(engine, COMMANDS);
    const before = images(engine);
    expect(engine.apply(command, contextAt(70)).ok).toBe(false);
    expectImages(engine, before);
    engine.close();
  });
});

describe('snapshot and restore', () => {
  test('a round trip gives the same databases, default, rows and bytes', () => {
    const engine = new Engine();
    applyAll(engine, COMMANDS);
    const snapshot = engine.snapshot();
    const restored = new Engine();
    restored.restore(snapshot);
    expect(restored.listDatabases()).toEqual(engine.listDatabases());
    expect(restored.defaultDatabase()).toBe('app'); // init_database made it; the USE other of a later script did not
    expect(restored.select('app', 'events')).toEqual(engine.select('app', 'events'));
    expect(Buffer.compare(Buffer.from(restored.snapshot()), Buffer.from(snapshot))).toBe(0);
    engine.close();
    restored.close();
  });

  test('restore replaces existing state', () => {
    const empty = new Engine();
    const snapshot = empty.snapshot();
    const engine = new Engine();
    applyAll(engine, COMMANDS);
    engine.restore(snapshot);
    expect(engine.listDatabases()).toEqual(['main']);
    expect(engine.defaultDatabase()).toBe('main');
    expect(() => engine.select(null, 'students')).toThrow(/does not exist/);
    empty.close();
    engine.close();
  });

  test('the functions are registered on restored connections', () => {
    const engine = new Engine();
    applyAll(engine, COMMANDS);
    const restored = new Engine();
    restored.restore(engine.snapshot());
    const context = contextAt(80);
    const command: Command = { type: 'insert', db_name: 'app', table_name: 'events', row_id: '1000', data: {} };
    expect(restored.apply(command, context)).toEqual(engine.apply(command, context));
    expect(restored.getRow('app', 'events', '1000')).toMatchObject({ created_at: '2025-05-18 12:36:16' });
    engine.close();
    restored.close();
  });

  test('garbage is refused with an Error and the old state stays', () => {
    const engine = new Engine();
    applyAll(engine, COMMANDS);
    const before = Buffer.from(engine.snapshot());
    const valid = Buffer.from(before);
    const corrupt = Buffer.from(before);
    corrupt.fill(0x41, corrupt.length - 9000, corrupt.length - 8000); // inside the last image's header
    const cases: Uint8Array[] = [
      Buffer.alloc(0),
      Buffer.from('not a snapshot at all'),
      valid.subarray(0, valid.length - 1),
      Buffer.concat([valid, Buffer.from([0])]),
      Buffer.concat([Buffer.from('DDBSNAP1'), Buffer.from([2, 0, 0, 0]), Buffer.from('{}')]),
    ];
    for (const garbage of cases) {
      expect(() => engine.restore(garbage)).toThrow(/snapshot/);
      expect(Buffer.compare(Buffer.from(engine.snapshot()), before)).toBe(0);
    }
    engine.close();
  });

  test('a database image that is not SQLite is refused', () => {
    const engine = new Engine();
    const metadata = JSON.stringify({
      format: 1,
      default_db: 'main',
      databases: [{ name: 'main', bytes: 4096, last_insert_rowid: '0', changes: 0 }],
    });
    const length = Buffer.alloc(4);
    length.writeUInt32LE(Buffer.byteLength(metadata), 0);
    const image = Buffer.concat([Buffer.from('DDBSNAP1'), length, Buffer.from(metadata), Buffer.alloc(4096, 7)]);
    expect(() => engine.restore(image)).toThrow(/not a valid snapshot/);
    engine.close();
  });
});
