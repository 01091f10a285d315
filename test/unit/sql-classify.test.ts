import { classifyScript, type ScriptClass } from '../../database/sql';
import { DdbError } from '../../utils/errors';

function codeOf(script: string): string {
  try {
    classifyScript(script);
    return 'OK';
  } catch (error) {
    if (error instanceof DdbError) return error.code;
    throw error;
  }
}

function shape(script: string): Pick<ScriptClass, 'kind' | 'privileged'> {
  const { kind, privileged } = classifyScript(script);
  return { kind, privileged };
}

describe('classifyScript: kind and privilege', () => {
  const cases: Array<[string, 'read' | 'write', boolean]> = [
    ['SELECT * FROM t', 'read', false],
    ['select 1; values (2); explain select 3', 'read', false],
    ['EXPLAIN QUERY PLAN SELECT * FROM t', 'read', false],
    ['SHOW DATABASES; SHOW TABLES', 'read', false],
    ['PRAGMA table_info(t)', 'read', false],
    ['WITH a AS (SELECT 1) SELECT * FROM a', 'read', false],
    ['WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) SELECT n FROM c', 'read', false],
    ['WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a', 'write', false],
    ['WITH a AS MATERIALIZED (SELECT 1) DELETE FROM t WHERE x IN a', 'write', false],
    ['INSERT INTO t VALUES (1)', 'write', false],
    ['REPLACE INTO t VALUES (1)', 'write', false],
    ["UPDATE t SET a = 'CREATE TABLE x'", 'write', false],
    ['DELETE FROM t', 'write', false],
    ['SELECT 1; INSERT INTO t VALUES (1)', 'write', false],
    // USE switches the database for the rest of its own script and changes no state.
    ['USE other', 'read', false],
    ['USE other; SELECT * FROM t; SHOW TABLES', 'read', false],
    ['USE other; DELETE FROM t', 'write', false],
    ['REINDEX', 'write', false],
    ['ANALYZE', 'write', false],
    ['CREATE TABLE t (a)', 'write', true],
    ['CREATE TEMP TABLE t (a)', 'write', true],
    ['CREATE VIRTUAL TABLE f USING fts5(body)', 'write', true],
    ['CREATE INDEX i ON t (a)', 'write', true],
    ['CREATE UNIQUE INDEX i ON t (a)', 'write', true],
    ['CREATE VIEW v AS SELECT 1', 'write', true],
    ['CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM t; END', 'write', true],
    ['DROP TABLE t', 'write', true],
    ['DROP INDEX IF EXISTS i', 'write', true],
    ['ALTER TABLE t ADD COLUMN b', 'write', true],
    ['CREATE DATABASE d', 'write', true],
    ['DROP DATABASE d', 'write', true],
    ['SELECT 1; CREATE TABLE t (a)', 'write', true],
    ["SELECT 'DROP TABLE t' -- CREATE TABLE x", 'read', false],
    ['/* INSERT */ SELECT 1', 'read', false],
  ];
  test.each(cases)('%s', (script, kind, privileged) => {
    expect(shape(script)).toEqual({ kind, privileged });
  });

  test('returns the statements', () => {
    expect(classifyScript('SELECT 1; SELECT 2').statements).toEqual(['SELECT 1', 'SELECT 2']);
  });

  test('an empty script is INVALID_REQUEST', () => {
    expect(codeOf('')).toBe('INVALID_REQUEST');
    expect(codeOf('  ;; -- nothing')).toBe('INVALID_REQUEST');
  });
});

describe('classifyScript: sandbox', () => {
  const forbidden: Array<[string]> = [
    ["ATTACH DATABASE 'file.db' AS other"],
    ["attach 'x' as y"],
    ['DETACH other'],
    ['VACUUM'],
    ["VACUUM INTO '/tmp/x.db'"],
    ["SELECT load_extension('/tmp/evil.so')"],
    ["SELECT LOAD_EXTENSION ('x')"],
    ["SELECT load_extension /* sneaky */ ('x')"],
    ["SELECT \"load_extension\"('x')"],
    ['CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT load_extension(new.x); END'],
    ['CREATE VIEW v AS SELECT load_extension(1)'],
    ['PRAGMA journal_mode = OFF'],
    ['PRAGMA foreign_keys = OFF'],
    ['PRAGMA foreign_keys'],
    ['PRAGMA writable_schema = ON'],
    ['PRAGMA database_list'],
    ['PRAGMA optimize'],
    ['PRAGMA main.journal_mode'],
    ['PRAGMA user_version = 5'],
    ['PRAGMA user_version(5)'],
    ['PRAGMA schema_version = 1'],
    ['PRAGMA table_info = t'],
    ['PRAGMA'],
    ['SELECT * FROM pragma_optimize'],
    ['SELECT * FROM pragma_journal_mode'],
    ['SELECT * FROM main.pragma_optimize(-1)'],
    ["SELECT * FROM 'pragma_optimize'"],
    ['SELECT * FROM "PRAGMA_OPTIMIZE"'],
    ['BEGIN'],
    ['BEGIN IMMEDIATE TRANSACTION'],
    ['COMMIT'],
    ['END'],
    ['ROLLBACK'],
    ['SAVEPOINT s'],
    ['RELEASE s'],
    ['SELECT 1; ATTACH x AS y'],
  ];
  test.each(forbidden)('%s is FORBIDDEN_STATEMENT', (script) => {
    expect(codeOf(script)).toBe('FORBIDDEN_STATEMENT');
  });

  const allowed: Array<[string]> = [
    ["SELECT 'ATTACH DATABASE x AS y'"],
    ["SELECT 'load_extension(1)'"],
    ["SELECT load_extension FROM t"],
    ['SELECT 1 -- ATTACH x AS y'],
    ['/* VACUUM */ SELECT 1'],
    ['SELECT "vacuum" FROM t'],
    ["INSERT INTO notes VALUES ('PRAGMA writable_schema = ON')"],
    ['PRAGMA table_info(t)'],
    ['PRAGMA main.table_xinfo("t")'],
    ['PRAGMA index_list(t)'],
    ['PRAGMA index_info(i)'],
    ['PRAGMA index_xinfo(i)'],
    ['PRAGMA foreign_key_list(t)'],
    ['PRAGMA foreign_key_check'],
    ['PRAGMA integrity_check'],
    ['PRAGMA quick_check'],
    ['PRAGMA user_version'],
    ['PRAGMA schema_version'],
    ['PRAGMA page_count'],
    ['PRAGMA compile_options'],
    ['PRAGMA "table_info"(t)'],
    ['SELECT * FROM pragma_table_info(\'t\')'],
    ['CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE c SET n = n + 1; END'],
  ];
  test.each(allowed)('%s is allowed', (script) => {
    expect(codeOf(script)).toBe('OK');
  });
});
