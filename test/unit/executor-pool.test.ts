/**
 * The node's SQL executors (executor-pool.ts), as real processes: while one
 * read runs for its whole budget, another read and a write's trial are
 * answered by the other processes, and the second reader starts only when
 * the first is busy.
 */
import type { Command } from '../../database/commands';
import { AppliedState, type LogPayload } from '../../src/node/applied-state';
import { SqlExecutorPool } from '../../src/node/sql-executor/executor-pool';
import type { Entry } from '../../src/replication/messages';
import { createSilentLogger } from '../../utils/logger';
import { descendantsOf, isRunning } from '../support/processes';

jest.setTimeout(30_000);

const FOREVER = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';

let state: AppliedState;
let pool: SqlExecutorPool;

afterEach(() => {
  pool.close();
  state.close();
});

function apply(command: Command): void {
  const entry: Entry<LogPayload> = { index: state.applied_index + 1, term: 1, data: { command, context: { timestamp_ms: 1_700_000_000_000, seed: state.applied_index } } };
  state.apply(entry);
  pool.applied(entry);
}

const sql = (script: string): Command => ({ type: 'sql', db_name: null, script });
const processes = (): number => descendantsOf(process.pid).filter(isRunning).length;

/** A read that never ends, sent to the pool: its outcome ('answered' or the error code), and whether it has one yet. */
function startLongRead(): { outcome: Promise<string | undefined>; ended: () => boolean } {
  let ended = false;
  const outcome = pool.query(null, FOREVER, undefined).then(
    () => 'answered',
    (error: { code?: string }) => error.code,
  );
  void outcome.finally(() => {
    ended = true;
  });
  return { outcome, ended: () => ended };
}

it('answers a read and a trial while another read runs for its whole budget', async () => {
  state = new AppliedState();
  pool = new SqlExecutorPool({ state, logger: createSilentLogger(), query_timeout_ms: 3000, trial_timeout_ms: 1000 });
  apply(sql('CREATE TABLE t (n INTEGER)'));
  apply(sql('INSERT INTO t VALUES (1)'));
  expect(await pool.query(null, 'SELECT count(*) AS n FROM t', undefined)).toEqual({ columns: ['n'], rows: [[1]] });
  expect(processes()).toBe(1); // one reader, started by the first read

  const long = startLongRead();
  apply(sql('INSERT INTO t VALUES (2)'));
  expect(await pool.query(null, 'SELECT count(*) AS n FROM t', undefined)).toEqual({ columns: ['n'], rows: [[2]] });
  await expect(pool.trial(sql('INSERT INTO t VALUES (3)'), { timestamp_ms: 0, seed: 1 })).resolves.toBeUndefined();
  // Both answers came while the long read still ran (it ends at its 3000 ms budget).
  expect(long.ended()).toBe(false);
  expect(processes()).toBe(3); // the busy reader, the second reader, the trials' executor
  expect(await long.outcome).toBe('QUERY_TIMEOUT');
});

it('moves reads queued behind a long read to the other reader, even when every read takes longer than the stall', async () => {
  state = new AppliedState();
  pool = new SqlExecutorPool({ state, logger: createSilentLogger(), query_timeout_ms: 5000, trial_timeout_ms: 1000 });
  apply(sql('CREATE TABLE t (n INTEGER)'));
  await pool.query(null, 'SELECT count(*) AS n FROM t', undefined);
  const long = startLongRead();
  // Each of these runs for tens of ms, past the 25 ms stall: some are queued behind the long read at first.
  const slow = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 200000) SELECT count(*) AS n FROM c';
  const reads = await Promise.all(Array.from({ length: 10 }, () => pool.query(null, slow, undefined)));
  expect(reads).toEqual(Array.from({ length: 10 }, () => ({ columns: ['n'], rows: [[200000]] })));
  expect(long.ended()).toBe(false); // all answered while the long read still ran (its budget is 5000 ms)
  expect(await long.outcome).toBe('QUERY_TIMEOUT');
});
