/**
 * Apply never throws on what a log holds: an entry whose data is not a valid
 * command (an old data dir, a buggy master) is an INVALID_REQUEST result, the
 * same on every node, and the hash chain goes on. A snapshot image that does
 * not load leaves the state as it was.
 */
import { AppliedState, type LogPayload } from '../../src/node/applied-state';
import type { Entry } from '../../src/replication/messages';
import { isEntry, isHardState } from '../../src/replication/storage-records';
import { TERM_MAX, INDEX_MAX } from '../../src/replication/bounds';

const context = { timestamp_ms: 1_700_000_000_000, seed: 7 };

function entries(): Entry<LogPayload>[] {
  const bad: unknown[] = [
    { command: { type: 'bogus' }, context },
    { command: { type: 'insert', db_name: null, table_name: 'items', row_id: 'x', data: 5 }, context },
    { command: { type: 'sql', db_name: null, script: 42 }, context },
    { command: null, context },
    'not even an object',
    { command: { type: 'insert', db_name: null, table_name: 'items', row_id: 'x', data: {} } },
  ];
  return [
    { index: 1, term: 1, data: { command: { type: 'create_table', db_name: null, table_name: 'items', columns: ['v'] }, context } },
    ...bad.map((data, offset) => ({ index: 2 + offset, term: 1, data: data as LogPayload })),
    { index: 2 + bad.length, term: 1, data: { command: { type: 'insert', db_name: null, table_name: 'items', row_id: 'ok', data: { v: 1 } }, context } },
  ];
}

function applyAll(state: AppliedState): unknown[] {
  return entries().map((entry) => state.apply(entry));
}

it('invalid commands are error results, identical on two nodes, and valid ones after them apply', () => {
  const [one, two] = [new AppliedState(), new AppliedState()];
  const results = applyAll(one);
  expect(applyAll(two)).toEqual(results);
  expect(one.state_hash).toBe(two.state_hash);
  for (const result of results.slice(1, -1)) expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
  expect(results[results.length - 1]).toMatchObject({ ok: true });
  expect(one.engine.select(null, 'items').count).toBe(1);
  // "A restart": a node restored from a snapshot of that state applies the same log on.
  const image = Buffer.concat(one.snapshotParts());
  const restarted = new AppliedState();
  restarted.restore(image, one.applied_index);
  expect(restarted.state_hash).toBe(one.state_hash);
  [one, two, restarted].forEach((state) => state.close());
});

it('a snapshot image that does not load leaves the state as it was', () => {
  const state = new AppliedState();
  applyAll(state);
  const { applied_index, state_hash } = state;
  const header = Buffer.from(JSON.stringify({ applied_index: 50, state_hash: '0'.repeat(64) }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  const garbage = [
    Buffer.from('garbage'),
    Buffer.alloc(0),
    Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2]),
    Buffer.concat([length, header, Buffer.from('not a database')]),
    Buffer.concat([length, Buffer.from('{"applied_index": -1}'.padEnd(header.length))]),
  ];
  for (const image of garbage) {
    expect(() => state.prepare(new Uint8Array(image), 50)).toThrow();
    expect(() => state.restore(new Uint8Array(image))).toThrow();
    expect({ applied_index: state.applied_index, state_hash: state.state_hash }).toEqual({ applied_index, state_hash });
    expect(state.engine.select(null, 'items').count).toBe(1);
  }
  // A real image, but taken at another index than the snapshot claims.
  const image = Buffer.concat(state.snapshotParts());
  expect(() => state.prepare(image, applied_index + 1)).toThrow(/taken at/);
  state.discard(state.prepare(image, applied_index));
  expect(state.engine.select(null, 'items').count).toBe(1);
  state.close();
});

it('storage keeps to the same bounds as peer messages', () => {
  expect(isHardState({ term: TERM_MAX, vote: null, commit: INDEX_MAX })).toBe(true);
  expect(isHardState({ term: TERM_MAX + 1, vote: null, commit: 0 })).toBe(false);
  expect(isHardState({ term: Number.MAX_SAFE_INTEGER, vote: 1, commit: 0 })).toBe(false);
  expect(isEntry({ index: INDEX_MAX + 1, term: 1, data: null })).toBe(false);
  expect(isEntry({ index: 1, term: TERM_MAX + 1, data: null })).toBe(false);
});
