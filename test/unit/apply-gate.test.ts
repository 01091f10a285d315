/**
 * The apply gate against a real AppliedState and a real SQL executor process:
 * a SQL write from a log written before the master tried writes (no `tried`
 * mark) is tried before it is applied; one that never ends is refused, the
 * same way on two nodes, and the entries after it apply; one that overran
 * once and then ended is applied; marked entries pass
 * untried; a snapshot that covers a held entry drops it; a trial that could
 * not run is run again, and nothing is applied untried meanwhile.
 */
import type { Command } from '../../database/commands';
import { ApplyGate, needsTrial } from '../../src/node/apply-gate';
import { AppliedState, type LogPayload } from '../../src/node/applied-state';
import { ProcessSqlExecutor } from '../../src/node/sql-executor/process-executor';
import { StatementStopped } from '../../src/node/sql-executor/sql-executor';
import type { Entry } from '../../src/replication/messages';
import { DdbError } from '../../utils/errors';
import { createSilentLogger } from '../../utils/logger';
import { pollUntil } from '../support/poll';

jest.setTimeout(30_000);

const FOREVER = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
const context = { timestamp_ms: 1_700_000_000_000, seed: 7 };

function sql(script: string): Command {
  return { type: 'sql', db_name: null, script };
}

function log(): Entry<LogPayload>[] {
  const payloads: LogPayload[] = [
    { command: sql('CREATE TABLE t (id TEXT PRIMARY KEY, v)'), context, tried: true },
    { command: sql("INSERT INTO t (id, v) VALUES ('a', 1)"), context },
    { command: sql(`INSERT INTO t (id, v) SELECT 'never', n FROM (${FOREVER.replace('count(*)', 'count(*) AS n')})`), context },
    { command: sql("INSERT INTO t (id, v) VALUES ('b', 2)"), context, tried: true },
    { command: { type: 'create_table', db_name: null, table_name: 'u', columns: ['v'] }, context },
  ];
  return payloads.map((data, offset) => ({ index: offset + 1, term: 1, data }));
}

interface GatedNode {
  state: AppliedState;
  executor: ProcessSqlExecutor;
  gate: ApplyGate;
  results: Map<number, unknown>;
  trials: number;
}

const started: GatedNode[] = [];

function gatedNode(trial?: (command: Command) => Promise<void>): GatedNode {
  const state = new AppliedState();
  const executor = new ProcessSqlExecutor({ state, logger: createSilentLogger(), query_timeout_ms: 2000, trial_timeout_ms: 500 });
  const node: GatedNode = { state, executor, results: new Map(), trials: 0, gate: null as unknown as ApplyGate };
  node.gate = new ApplyGate({
    applied_index: () => state.applied_index,
    apply: (entry) => {
      if (entry.index <= state.applied_index) return;
      node.results.set(entry.index, state.apply(entry));
      executor.applied(entry);
    },
    refuse: (entry, error) => {
      state.refuse(entry.index, entry.term, error);
      executor.restored();
    },
    trial: (command, entry_context) => {
      node.trials += 1;
      return trial === undefined ? executor.trial(command, entry_context) : trial(command);
    },
    appliedLater: () => undefined,
    failed: (error) => {
      throw error;
    },
    logger: createSilentLogger(),
  });
  started.push(node);
  return node;
}

afterEach(() => {
  for (const node of started.splice(0)) {
    node.gate.close();
    node.executor.close();
    node.state.close();
  }
});

function ids(state: AppliedState): string[] {
  return (state.engine.query(null, 'SELECT id FROM t ORDER BY id', undefined) as { rows: [string][] }).rows.map(([id]) => id);
}

it('marks only SQL writes without the tried mark as needing a trial', () => {
  const [create, untried, , tried, rest] = log();
  expect([create, untried, tried, rest].map((entry) => needsTrial(entry as Entry<LogPayload>))).toEqual([false, true, false, false]);
  expect(needsTrial({ index: 1, term: 1, data: null })).toBe(false);
  expect(needsTrial({ index: 1, term: 1, data: 'not a payload' as unknown as LogPayload })).toBe(false);
});

it('tries untried SQL writes, refuses the one that never ends the same way on two nodes, and applies the rest in order', async () => {
  const nodes = [gatedNode(), gatedNode()];
  for (const node of nodes) {
    node.gate.push(log());
    // The first entry, tried by the master, applies at once; the first untried write waits for its trial.
    expect(node.state.applied_index).toBe(1);
  }
  for (const node of nodes) {
    await pollUntil(() => node.state.applied_index === 5 || null, { timeout_ms: 20_000, interval_ms: 20, what: 'the gate to apply the whole log' });
    // The one that never ends is tried twice (the second time in a fresh executor) before it is refused.
    expect(node.trials).toBe(3);
    expect(node.results.get(3)).toEqual({ ok: false, error: { code: 'QUERY_TIMEOUT', message: expect.stringMatching(/older ddb, ran past statement_timeout_ms when tried, twice/) } });
    expect(node.results.get(2)).toMatchObject({ ok: true });
    expect(ids(node.state)).toEqual(['a', 'b']);
  }
  const [one, two] = nodes as [GatedNode, GatedNode];
  expect(one.state.content_hash).toBe(two.state.content_hash);
  expect(one.state.state_hash).toBe(two.state.state_hash);
  // The executor follows the refused entry as refused: it answers reads (a fresh image, not a replay that hangs).
  await expect(one.executor.query(null, 'SELECT count(*) AS n FROM t', undefined)).resolves.toMatchObject({ rows: [[2]] });
});

it('a refused entry stays refused when the state is rebuilt from an older image and the log replayed (a repair)', async () => {
  const node = gatedNode();
  const image = Buffer.concat(node.state.snapshotParts());
  node.gate.push(log());
  await pollUntil(() => node.state.applied_index === 5 || null, { timeout_ms: 20_000, interval_ms: 20, what: 'the log applied' });
  const { content_hash } = node.state;
  node.state.restore(image, 0);
  // On the main thread, unguarded: had the refusal been forgotten, this would never return.
  for (const entry of log()) node.state.apply(entry);
  expect(node.state.content_hash).toBe(content_hash);
});

it('a snapshot that covers the held entry drops it and its trial, and the entries after it apply', async () => {
  let answer: (() => void) | null = null;
  const node = gatedNode(() => new Promise<void>((resolve) => (answer = resolve)));
  const source = gatedNode();
  source.gate.push(log().slice(0, 3));
  await pollUntil(() => source.state.applied_index === 3 || null, { timeout_ms: 20_000, interval_ms: 20, what: 'the source to apply three entries' });
  node.gate.push(log());
  expect(node.state.applied_index).toBe(1);
  expect(node.gate.holding).toBe(4);
  // The master's image at index 3 arrives while entry 2 is being tried.
  node.state.restore(Buffer.concat(source.state.snapshotParts()), 3);
  node.gate.restored(3);
  expect(node.state.applied_index).toBe(5);
  expect(node.gate.holding).toBe(0);
  (answer as unknown as () => void)();
  await new Promise((resolve) => setImmediate(resolve));
  expect(node.state.applied_index).toBe(5);
  expect(ids(node.state)).toEqual(['a', 'b']);
});

it('a write that ran past its budget once and ended the second time is applied, not refused', async () => {
  let overruns = 1;
  const node = gatedNode(async () => {
    if (overruns > 0) {
      overruns -= 1;
      throw new StatementStopped('QUERY_TIMEOUT', 'slowed down by the executor catching up');
    }
  });
  node.gate.push(log().slice(0, 2));
  await pollUntil(() => node.state.applied_index === 2 || null, { timeout_ms: 5000, interval_ms: 10, what: 'the entry applied after its second trial' });
  expect(node.trials).toBe(2);
  expect(node.results.get(2)).toMatchObject({ ok: true });
});

it('a trial that could not run is run again, and the entry waits for it', async () => {
  let failures = 2;
  const node = gatedNode(async () => {
    if (failures > 0) {
      failures -= 1;
      throw new DdbError('INTERNAL', 'the SQL executor diverged from this node; retry');
    }
  });
  node.gate.push(log().slice(0, 2));
  expect(node.state.applied_index).toBe(1);
  await pollUntil(() => node.state.applied_index === 2 || null, { timeout_ms: 5000, interval_ms: 10, what: 'the entry applied after its trial ran' });
  expect(node.trials).toBe(3);
  expect(node.results.get(2)).toMatchObject({ ok: true });
});
