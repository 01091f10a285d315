/**
 * The wall behind the sandbox: with the sandbox switched off (as if it missed
 * a statement), a script that changes a connection setting every node must
 * share is still refused, by a read and by apply, nothing of it stays, and the
 * setting is put back.
 */
import { PINNED_FLAGS } from '../../database/connection-settings';
import { Engine } from '../../database/engine';
import { FIXED_CONTEXT as CONTEXT, thrownCode } from '../support/engine';

jest.mock('../../database/sql-sandbox', () => {
  const actual = jest.requireActual('../../database/sql-sandbox');
  return { ...actual, checkSandbox: () => undefined };
});

let engine: Engine;
let pinned: Record<string, number>;
beforeEach(() => {
  engine = new Engine();
  pinned = engine.connectionSettings(null);
  const setup = engine.apply({ type: 'sql', db_name: null, script: 'CREATE TABLE t (a CHECK (a > 0))' }, CONTEXT);
  expect(setup.ok).toBe(true);
});
afterEach(() => engine.close());

const SETTINGS = Object.entries(PINNED_FLAGS).map(([name, value]): [string, string] => [
  name,
  name === 'analysis_limit' ? '7' : value === 0 ? 'ON' : 'OFF',
]);

/**
 * Scripts run in a transaction, where SQLite ignores foreign_keys; better-sqlite3's
 * defensive mode ignores writable_schema; defer_foreign_keys ends with the
 * transaction (a read checks after its rollback, a write before its commit):
 * setting them changes nothing that lasts, so nothing is refused.
 */
const NO_EFFECT_IN_A_TRANSACTION = new Set(['foreign_keys', 'defer_foreign_keys', 'writable_schema']);
const NO_EFFECT_IN_A_WRITE = new Set(['foreign_keys', 'writable_schema']);

test.each(SETTINGS)('a read that sets %s is refused and the setting put back', (name, value) => {
  const expected = NO_EFFECT_IN_A_TRANSACTION.has(name) ? 'OK' : 'FORBIDDEN_STATEMENT';
  expect(thrownCode(() => engine.query(null, `PRAGMA ${name} = ${value}`))).toBe(expected);
  expect(engine.connectionSettings(null)).toEqual(pinned);
  expect(thrownCode(() => engine.query(null, `EXPLAIN PRAGMA ${name} = ${value}`))).toBe(expected);
  expect(engine.connectionSettings(null)).toEqual(pinned);
});

test.each(SETTINGS)('a write that sets %s is refused, nothing of it stays, and the setting is put back', (name, value) => {
  const result = engine.apply({ type: 'sql', db_name: null, script: `INSERT INTO t VALUES (1); PRAGMA ${name} = ${value}` }, CONTEXT);
  const refused = !NO_EFFECT_IN_A_WRITE.has(name);
  expect(result.ok ? 'OK' : result.error.code).toBe(refused ? 'FORBIDDEN_STATEMENT' : 'OK');
  expect(engine.connectionSettings(null)).toEqual(pinned);
  expect(engine.select(null, 't').count).toBe(refused ? 0 : 1);
});

test('ignore_check_constraints cannot let a row in that a CHECK refuses', () => {
  const result = engine.apply({ type: 'sql', db_name: null, script: 'PRAGMA ignore_check_constraints = 1; INSERT INTO t VALUES (-1)' }, CONTEXT);
  expect(result.ok ? 'OK' : result.error.code).toBe('FORBIDDEN_STATEMENT');
  expect(engine.select(null, 't').count).toBe(0);
  const next = engine.apply({ type: 'sql', db_name: null, script: 'INSERT INTO t VALUES (-1)' }, CONTEXT);
  expect(next.ok ? 'OK' : next.error.code).toBe('SQL_ERROR');
});

test('a failed script that changed a setting while it was prepared still has it put back', () => {
  const result = engine.apply({ type: 'sql', db_name: null, script: 'EXPLAIN PRAGMA case_sensitive_like = ON; SELECT * FROM nowhere' }, CONTEXT);
  expect(result.ok ? 'OK' : result.error.code).toBe('SQL_ERROR');
  expect(engine.connectionSettings(null)).toEqual(pinned);
});
