/**
 * Issue 12: statements that changed one node's connection settings through the
 * sandbox (EXPLAIN PRAGMA ..., quoted pragma names, comments between tokens).
 * Every attack statement is refused with FORBIDDEN_STATEMENT by the
 * classification, by a local read and by apply, and leaves every pinned
 * connection setting at the engine's value; a fuzz of token soups checks the
 * same for statements nobody thought of.
 */
import fc from 'fast-check';
import { PINNED_FLAGS } from '../../database/connection-settings';
import { Engine } from '../../database/engine';
import { classifyScript, type ScriptClass } from '../../database/sql';
import { DdbError } from '../../utils/errors';
import { FIXED_CONTEXT as CONTEXT, thrownCode } from '../support/engine';

function codeOf(script: string): string {
  return thrownCode(() => classifyScript(script));
}

function shape(script: string): Pick<ScriptClass, 'kind' | 'privileged'> {
  const { kind, privileged } = classifyScript(script);
  return { kind, privileged };
}

/** A value other than the engine's, for every pinned flag. */
const OTHER_VALUE: Record<string, string> = Object.fromEntries(
  Object.entries(PINNED_FLAGS).map(([name, value]) => [name, name === 'analysis_limit' ? '7' : value === 0 ? 'ON' : 'OFF']),
);

const ATTACKS: string[] = [
  // The findings, as sent.
  'EXPLAIN PRAGMA case_sensitive_like=ON',
  'EXPLAIN PRAGMA ignore_check_constraints=ON',
  'EXPLAIN PRAGMA query_only=ON',
  // Every pinned flag, plain and explained.
  ...Object.entries(OTHER_VALUE).flatMap(([name, value]) => [
    `PRAGMA ${name} = ${value}`,
    `EXPLAIN PRAGMA ${name} = ${value}`,
    `EXPLAIN QUERY PLAN PRAGMA ${name}(${value})`,
  ]),
  'EXPLAIN PRAGMA max_page_count = 1',
  'explain query plan pragma main.query_only = 1',
  // Quoted names, schema names, comments between tokens.
  'PRAGMA "query_only" = 1',
  'PRAGMA [query_only] = 1',
  'PRAGMA `query_only` = 1',
  "PRAGMA 'query_only' = 1",
  "EXPLAIN PRAGMA 'case_sensitive_like' = 1",
  'PRAGMA main.query_only = 1',
  'PRAGMA "main"."query_only" = 1',
  'PRAGMA temp . case_sensitive_like = 1',
  'PRAGMA/**/query_only/**/=/**/1',
  'PRAGMA -- a comment\n case_sensitive_like = 1',
  'EXPLAIN /* x */ PRAGMA query_only = 1',
  'EXPLAIN -- x\n QUERY /* y */ PLAN PRAGMA ignore_check_constraints = 1',
  'EXPLAIN PRAGMA user_version = 5',
  'EXPLAIN PRAGMA user_version(5)',
  'EXPLAIN PRAGMA schema_version = 1',
  'EXPLAIN PRAGMA writable_schema = 1',
  'EXPLAIN PRAGMA journal_mode = OFF',
  // Inside scripts, after a harmless statement.
  'SELECT 1; EXPLAIN PRAGMA case_sensitive_like = ON',
  'SELECT 1; PRAGMA "ignore_check_constraints" = 1; SELECT 2',
  // Transaction, ATTACH and VACUUM words after EXPLAIN.
  'EXPLAIN BEGIN',
  'EXPLAIN COMMIT',
  'EXPLAIN QUERY PLAN ROLLBACK',
  'EXPLAIN SAVEPOINT s',
  "EXPLAIN ATTACH DATABASE 'x.db' AS x",
  'EXPLAIN DETACH x',
  'EXPLAIN VACUUM',
  "EXPLAIN VACUUM INTO '/tmp/x.db'",
  // Pragma functions: not on the allow-list, wherever they appear.
  'SELECT * FROM pragma_query_only',
  'EXPLAIN SELECT * FROM pragma_case_sensitive_like',
  'WITH a AS (SELECT 1) SELECT * FROM a, pragma_ignore_check_constraints',
  "SELECT * FROM 'pragma_query_only'",
  "EXPLAIN SELECT load_extension('x')",
];

describe('the sandbox refuses every attack statement', () => {
  test.each(ATTACKS.map((script) => [script]))('%j', (script) => {
    expect(codeOf(script)).toBe('FORBIDDEN_STATEMENT');
  });
});

describe('EXPLAIN is classified as the statement it explains', () => {
  const cases: Array<[string, 'read' | 'write', boolean]> = [
    ['EXPLAIN SELECT 1', 'read', false],
    ['EXPLAIN QUERY PLAN SELECT * FROM t', 'read', false],
    ['EXPLAIN PRAGMA table_info(t)', 'read', false],
    ['EXPLAIN WITH a AS (SELECT 1) SELECT * FROM a', 'read', false],
    ['EXPLAIN INSERT INTO t VALUES (1)', 'write', false],
    ['EXPLAIN QUERY PLAN DELETE FROM t', 'write', false],
    ['EXPLAIN UPDATE t SET a = 1', 'write', false],
    ['EXPLAIN WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a', 'write', false],
    ['EXPLAIN CREATE TABLE x (a)', 'write', true],
    ['EXPLAIN QUERY PLAN DROP TABLE t', 'write', true],
    ['EXPLAIN', 'write', false],
    ['SELECT 1; EXPLAIN INSERT INTO t VALUES (1)', 'write', false],
  ];
  test.each(cases)('%j', (script, kind, privileged) => {
    expect(shape(script)).toEqual({ kind, privileged });
  });
});

describe('on the engine: refused by reads and by apply, and no setting moves', () => {
  let engine: Engine;
  const pinned = { ...PINNED_FLAGS, max_page_count: 262_144, page_size: 4096 };
  beforeAll(() => {
    engine = new Engine();
    const setup = engine.apply(
      { type: 'sql', db_name: null, script: "CREATE TABLE people (name TEXT, age CHECK (age >= 0)); INSERT INTO people VALUES ('Nour', 1), ('nadia', 2), ('Omar', 3)" },
      CONTEXT,
    );
    expect(setup.ok).toBe(true);
  });
  afterAll(() => engine.close());

  test.each(ATTACKS.map((script) => [script]))('%j', (script) => {
    expect(thrownCode(() => engine.query(null, script))).toBe('FORBIDDEN_STATEMENT');
    const applied = engine.apply({ type: 'sql', db_name: null, script }, CONTEXT);
    expect(applied.ok ? 'OK' : applied.error.code).toBe('FORBIDDEN_STATEMENT');
    expect(engine.connectionSettings(null)).toEqual(pinned);
  });

  test.each([
    ['PRAGMA user_version'],
    ['PRAGMA main.schema_version'],
    ['SELECT * FROM pragma_user_version'],
    ['SELECT * FROM pragma_user_version(5)'],
    ['SELECT * FROM pragma_schema_version(1)'],
    ["SELECT * FROM pragma_table_info('people', 'main')"],
    ["PRAGMA table_info('people')"],
    ['PRAGMA "table_info"(people)'],
    ['PRAGMA integrity_check(5)'],
    ['SELECT * FROM pragma_integrity_check(5)'],
    ["EXPLAIN QUERY PLAN SELECT * FROM people WHERE name LIKE 'N%'"],
    ['EXPLAIN PRAGMA table_info(people)'],
  ])('%j is allowed (or refused by SQLite) and changes nothing', (script) => {
    const versions = (): unknown => engine.query(null, 'SELECT * FROM pragma_user_version, pragma_schema_version');
    const before = versions();
    expect(['OK', 'SQL_ERROR']).toContain(thrownCode(() => engine.query(null, script)));
    const applied = engine.apply({ type: 'sql', db_name: null, script }, CONTEXT);
    expect(['OK', 'SQL_ERROR']).toContain(applied.ok ? 'OK' : applied.error.code);
    expect(versions()).toEqual(before);
    expect(engine.connectionSettings(null)).toEqual(pinned);
  });

  test('LIKE, CHECK and writes behave as the engine pins them after every attack', () => {
    const like = engine.query(null, "SELECT count(*) FROM people WHERE name LIKE 'N%'") as { rows: unknown[][] };
    expect(like.rows).toEqual([[2]]);
    const refused = engine.apply({ type: 'sql', db_name: null, script: "INSERT INTO people VALUES ('x', -1)" }, CONTEXT);
    expect(refused.ok ? 'OK' : refused.error.code).toBe('SQL_ERROR');
    const written = engine.apply({ type: 'sql', db_name: null, script: "INSERT INTO people VALUES ('Nabil', 4)" }, CONTEXT);
    expect(written.ok).toBe(true);
  });
});

describe('fuzz: token soups of EXPLAIN, PRAGMA, quotes and comments never move a pinned setting', () => {
  const WORDS = [
    'EXPLAIN', 'QUERY', 'PLAN', 'PRAGMA', 'pragma', 'main', 'temp', '.', '=', '(', ')', ';', ',', '1', '0', 'ON', 'OFF',
    'yes', "'on'", '/* c */', '-- c\n', 'SELECT', 'FROM', 'WITH', 'a', 'AS', '*', 'BEGIN', 'COMMIT', 'SAVEPOINT', 'x',
    'table_info', 'user_version', 'integrity_check', 'pragma_query_only', 'pragma_table_info',
    ...Object.keys(PINNED_FLAGS).flatMap((name) => [name, `"${name}"`, `[${name}]`, `\`${name}\``, `'${name}'`]),
  ];
  const soup = fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 12 }).map((words) => words.join(' '));

  test('reads and applies of random soups', () => {
    const engine = new Engine();
    try {
      const pinned = engine.connectionSettings(null);
      fc.assert(
        fc.property(soup, (script) => {
          for (const attempt of [() => engine.query(null, script), () => engine.apply({ type: 'sql', db_name: null, script }, CONTEXT)]) {
            try {
              attempt();
            } catch (error) {
              if (!(error instanceof DdbError)) throw error;
            }
          }
          expect(engine.connectionSettings(null)).toEqual(pinned);
        }),
        { numRuns: 1500, seed: 12 },
      );
    } finally {
      engine.close();
    }
  });
});
