/**
 * The SQL executor process against a node's AppliedState: it starts from an
 * image, follows the entries applied after it, starts over after a restore or
 * when too many entries piled up, is killed when work outlives its budget,
 * and a new one takes over after it died or went idle.
 */
import type { Command } from '../../database/commands';
import { AppliedState, type LogPayload } from '../../src/node/applied-state';
import { ProcessSqlExecutor, type ProcessExecutorOptions } from '../../src/node/sql-executor/process-executor';
import type { Entry } from '../../src/replication/messages';
import { createSilentLogger } from '../../utils/logger';
import { pollUntil } from '../support/poll';
import { descendantsOf, isRunning } from '../support/processes';

jest.setTimeout(30_000);

const FOREVER = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';

let state: AppliedState;
let executor: ProcessSqlExecutor;

function start(options: Partial<ProcessExecutorOptions> = {}): void {
  state = new AppliedState();
  executor = new ProcessSqlExecutor({ state, logger: createSilentLogger(), query_timeout_ms: 2000, trial_timeout_ms: 300, ...options });
}

afterEach(() => {
  executor.close();
  state.close();
});

function apply(command: Command): void {
  const entry: Entry<LogPayload> = { index: state.applied_index + 1, term: 1, data: { command, context: { timestamp_ms: 1_700_000_000_000, seed: state.applied_index } } };
  state.apply(entry);
  executor.applied(entry);
}

function sql(script: string): Command {
  return { type: 'sql', db_name: null, script };
}

const count = (): Promise<unknown> => executor.query(null, 'SELECT count(*) AS n FROM t', undefined);

/** The executor processes this test's executors started: the only children this jest worker has. */
function executorPids(): number[] {
  return descendantsOf(process.pid).filter(isRunning);
}

it('answers from the state it was started with and follows the entries applied after it', async () => {
  start();
  apply(sql('CREATE TABLE t (n INTEGER)'));
  apply(sql('INSERT INTO t VALUES (1)'));
  expect(await count()).toEqual({ columns: ['n'], rows: [[1]] });
  apply(sql('INSERT INTO t VALUES (2)'));
  apply(sql('INSERT INTO t VALUES (3)'));
  expect(await count()).toEqual({ columns: ['n'], rows: [[3]] });
});

it('starts over from an image after a restore, and after more entries than it keeps', async () => {
  start({ pending_entries_max: 5 });
  apply(sql('CREATE TABLE t (n INTEGER)'));
  expect(await count()).toEqual({ columns: ['n'], rows: [[0]] });
  for (let n = 0; n < 20; n += 1) apply(sql(`INSERT INTO t VALUES (${n})`));
  expect(await count()).toEqual({ columns: ['n'], rows: [[20]] });

  const other = new AppliedState();
  other.apply({ index: 1, term: 1, data: { command: sql('CREATE TABLE t (n INTEGER)'), context: { timestamp_ms: 0, seed: 0 } } });
  other.apply({ index: 2, term: 1, data: { command: sql('INSERT INTO t VALUES (7)'), context: { timestamp_ms: 0, seed: 0 } } });
  state.restore(Buffer.concat(other.snapshotParts()));
  other.close();
  executor.restored();
  expect(await count()).toEqual({ columns: ['n'], rows: [[1]] });
});

it('stops a read past its budget with QUERY_TIMEOUT, kills its process, and serves the next read from a new one', async () => {
  start({ query_timeout_ms: 300 });
  apply(sql('CREATE TABLE t (n INTEGER)'));
  await count();
  const [first] = executorPids();
  await expect(executor.query(null, FOREVER, undefined)).rejects.toMatchObject({ code: 'QUERY_TIMEOUT' });
  expect(await count()).toEqual({ columns: ['n'], rows: [[0]] });
  expect(executorPids()).not.toContain(first);
});

it('times out work that waited its whole budget behind statements that never end, without running it', async () => {
  start({ query_timeout_ms: 400 });
  apply(sql('CREATE TABLE t (n INTEGER)'));
  await count();
  const stuck = [executor.query(null, FOREVER, undefined), executor.query(null, FOREVER, undefined)].map((one) =>
    expect(one).rejects.toMatchObject({ code: 'QUERY_TIMEOUT', message: expect.stringMatching(/ran longer than 400 ms/) }),
  );
  await expect(executor.query(null, 'SELECT 1', undefined)).rejects.toMatchObject({
    code: 'QUERY_TIMEOUT',
    message: expect.stringMatching(/waited longer than 400 ms behind other SQL/),
  });
  await Promise.all(stuck);
});

it('passes a trial that ends in budget, whatever its SQL result, and leaves nothing of it', async () => {
  start();
  apply(sql('CREATE TABLE t (n INTEGER)'));
  const context = { timestamp_ms: 0, seed: 0 };
  await expect(executor.trial(sql('INSERT INTO t VALUES (1)'), context)).resolves.toBeUndefined();
  await expect(executor.trial(sql('INSERT INTO nowhere VALUES (1)'), context)).resolves.toBeUndefined();
  await expect(executor.trial(sql(`INSERT INTO t ${FOREVER}`), context)).rejects.toMatchObject({ code: 'QUERY_TIMEOUT', message: expect.stringMatching(/trial run/) });
  expect(await count()).toEqual({ columns: ['n'], rows: [[0]] });
});

it('answers SQL_ERROR when its process dies under a statement, and recovers', async () => {
  start();
  apply(sql('CREATE TABLE t (n INTEGER)'));
  await count();
  const pending = executor.query(null, FOREVER, undefined);
  const [pid] = await pollUntil(() => (executorPids().length > 0 ? executorPids() : null), { timeout_ms: 5000, what: 'the executor' });
  process.kill(pid, 'SIGKILL');
  await expect(pending).rejects.toMatchObject({ code: 'SQL_ERROR', message: expect.stringMatching(/executor ended/) });
  expect(await count()).toEqual({ columns: ['n'], rows: [[0]] });
});

it('ends its process when idle and starts a new one for the next work', async () => {
  start({ idle_ms: 100 });
  apply(sql('CREATE TABLE t (n INTEGER)'));
  await count();
  await pollUntil(() => (executorPids().length === 0 ? true : null), { timeout_ms: 5000, what: 'the idle executor to end' });
  apply(sql('INSERT INTO t VALUES (1)'));
  expect(await count()).toEqual({ columns: ['n'], rows: [[1]] });
});
