import { canonicalJson, checkSet, format, SetCheckInput } from '../chaos/set-check';

type Rows = Record<string, unknown>;

/** Builds the check's input from plain objects: node id -> rows, node id -> [index, hash]. */
function input(options: {
  inserts: Rows;
  deleted?: string[];
  rows: Record<number, Rows>;
  hashes?: Record<number, [number, string]>;
}): SetCheckInput {
  const numbered = <T>(record: Record<number, T>) => Object.entries(record).map(([id, value]) => [Number(id), value] as const);
  return {
    acknowledged_inserts: new Map(Object.entries(options.inserts)),
    deleted_keys: options.deleted ?? [],
    final_rows_per_node: new Map(numbered(options.rows).map(([id, rows]) => [id, new Map(Object.entries(rows))])),
    state_hash_per_node: new Map(numbered(options.hashes ?? {}).map(([id, [applied_index, state_hash]]) => [id, { applied_index, state_hash }])),
  };
}

const row = (name: string) => ({ name, size: 1 });

describe('checkSet', () => {
  test('a converged cluster that kept every acknowledged insert passes', () => {
    const rows = { a: row('a'), b: row('b') };
    const report = checkSet(input({
      inserts: { a: row('a'), b: row('b') },
      rows: { 1: rows, 2: rows, 3: rows },
      hashes: { 1: [7, 'h7'], 2: [7, 'h7'], 3: [7, 'h7'] },
    }));
    expect(report).toEqual({
      valid: true,
      acknowledged_insert_count: 2,
      nodes_checked: [1, 2, 3],
      lost_writes: [],
      divergent_rows: [],
      state_hash_mismatches: [],
      applied_index_per_node: [{ node_id: 1, applied_index: 7 }, { node_id: 2, applied_index: 7 }, { node_id: 3, applied_index: 7 }],
    });
    expect(format(report)).toMatch(/^set check: OK/);
  });

  test('an acknowledged insert missing on every node is a lost write', () => {
    const report = checkSet(input({ inserts: { a: row('a'), b: row('b') }, rows: { 1: { b: row('b') }, 2: { b: row('b') } } }));
    expect(report.valid).toBe(false);
    expect(report.lost_writes).toEqual([{ key: 'a', value: row('a'), missing_on_nodes: [1, 2] }]);
    // The nodes agree with each other: the loss is not a divergence.
    expect(report.divergent_rows).toEqual([]);
    expect(format(report)).toContain('"a" = {"name":"a","size":1} missing on node(s) 1, 2');
  });

  test('an acknowledged insert missing on one node is a lost write there and a divergence', () => {
    const report = checkSet(input({ inserts: { a: row('a') }, rows: { 1: { a: row('a') }, 2: {}, 3: { a: row('a') } } }));
    expect(report.lost_writes).toEqual([{ key: 'a', value: row('a'), missing_on_nodes: [2] }]);
    expect(report.divergent_rows).toEqual([{
      key: 'a',
      value_per_node: [{ node_id: 1, value: canonicalJson(row('a')) }, { node_id: 2, value: null }, { node_id: 3, value: canonicalJson(row('a')) }],
    }]);
  });

  test('a row that a delete may have removed is not lost', () => {
    const report = checkSet(input({ inserts: { a: row('a') }, deleted: ['a'], rows: { 1: {}, 2: {} } }));
    expect(report.valid).toBe(true);
  });

  test('the list form of acknowledged inserts counts each acknowledgement', () => {
    const report = checkSet({
      ...input({ inserts: {}, rows: { 1: { a: 1 } } }),
      acknowledged_inserts: [{ key: 'a', value: 1 }, { key: 'b', value: 2 }],
    });
    expect(report.acknowledged_insert_count).toBe(2);
    expect(report.lost_writes.map((lost) => lost.key)).toEqual(['b']);
  });

  test('nodes holding different values or different rows disagree', () => {
    const report = checkSet(input({
      inserts: {},
      rows: { 1: { a: { x: 1, y: 2 }, c: 3 }, 2: { a: { y: 2, x: 1 }, c: 4 }, 3: { a: { x: 1, y: 2 }, c: 3, extra: true } },
    }));
    // Key order inside a row does not matter.
    expect(report.divergent_rows.map((divergent) => divergent.key)).toEqual(['c', 'extra']);
    expect(report.divergent_rows[1].value_per_node).toEqual([
      { node_id: 1, value: null }, { node_id: 2, value: null }, { node_id: 3, value: 'true' },
    ]);
    expect(format(report)).toContain('"extra": node 1 (absent); node 2 (absent); node 3 true');
  });

  test('different state hashes matter only at equal applied indexes', () => {
    const report = checkSet(input({
      inserts: {},
      rows: { 1: {}, 2: {}, 3: {}, 4: {} },
      hashes: { 1: [10, 'x'], 2: [10, 'y'], 3: [9, 'z'], 4: [10, 'x'] },
    }));
    expect(report.state_hash_mismatches).toEqual([{
      applied_index: 10,
      state_hash_per_node: [{ node_id: 1, state_hash: 'x' }, { node_id: 2, state_hash: 'y' }, { node_id: 4, state_hash: 'x' }],
    }]);
    expect(report.valid).toBe(false);
    const text = format(report);
    expect(text).toContain('index 10: node 1 x; node 2 y; node 4 x');
    expect(text).toContain('applied index per node: 1@10 2@10 3@9 4@10');
  });

  test('format cuts long sections and says how many were left out', () => {
    const inserts: Rows = {};
    for (let i = 0; i < 25; i++) inserts[`k${String(i).padStart(2, '0')}`] = i;
    const text = format(checkSet(input({ inserts, rows: { 1: {} } })));
    expect(text).toContain('lost writes (acknowledged, never deleted, missing) (25):');
    expect(text).toContain('"k19"');
    expect(text).not.toContain('"k20"');
    expect(text).toContain('... and 5 more');
  });
});

describe('canonicalJson', () => {
  test('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [2, { d: 1, c: null }], a: 'x' })).toBe('{"a":"x","b":[2,{"c":null,"d":1}]}');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson('s')).toBe('"s"');
  });
});
