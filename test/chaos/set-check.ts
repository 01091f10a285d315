/**
 * The end-of-run check of a chaos test, once the cluster has healed and caught up:
 *
 * - no lost write: every acknowledged insert is present on every node, unless a delete of
 *   that key may have taken effect;
 * - convergence: every node holds the same rows;
 * - no divergence: nodes at the same applied_index have the same state_hash (the hash chain
 *   of applied entries), which catches replicas that applied different logs even when the
 *   rows happen to agree.
 *
 * Linearizability (linearizability.ts) says whether clients saw one consistent register per
 * key; this says whether the replicas ended up holding it.
 */

export type NodeId = number;

export interface StateHash {
  applied_index: number;
  state_hash: string;
}

export interface SetCheckInput {
  /** Every insert the cluster acknowledged (2xx), with the value written. */
  acknowledged_inserts: ReadonlyMap<string, unknown> | ReadonlyArray<{ key: string; value: unknown }>;
  /**
   * Every key a delete may have removed: acknowledged deletes and indeterminate ('info') ones,
   * since a timed-out delete may have been applied.
   */
  deleted_keys: Iterable<string>;
  /** The rows each node holds at the end (row id -> row), read with consistency=local. */
  final_rows_per_node: ReadonlyMap<NodeId, ReadonlyMap<string, unknown>>;
  /** Each node's /status at the end. */
  state_hash_per_node: ReadonlyMap<NodeId, StateHash>;
}

export interface LostWrite {
  key: string;
  value: unknown;
  missing_on_nodes: NodeId[];
}

export interface DivergentRow {
  key: string;
  /** A canonical JSON of the row on each node; null where the node does not have it. */
  value_per_node: { node_id: NodeId; value: string | null }[];
}

export interface StateHashMismatch {
  applied_index: number;
  state_hash_per_node: { node_id: NodeId; state_hash: string }[];
}

export interface SetCheckReport {
  /** No lost write, no divergent row, no state hash mismatch. */
  valid: boolean;
  acknowledged_insert_count: number;
  nodes_checked: NodeId[];
  lost_writes: LostWrite[];
  divergent_rows: DivergentRow[];
  state_hash_mismatches: StateHashMismatch[];
  /** Nodes at different applied indexes have not caught up; their hashes cannot be compared. */
  applied_index_per_node: { node_id: NodeId; applied_index: number }[];
}

/** JSON with object keys sorted, so two equal rows give the same string on every node. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort()
      .map((name) => `${JSON.stringify(name)}:${canonicalJson((value as Record<string, unknown>)[name])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

function sortedNodeIds(input: SetCheckInput): NodeId[] {
  const ids = new Set<NodeId>([...input.final_rows_per_node.keys(), ...input.state_hash_per_node.keys()]);
  return [...ids].sort((a, b) => a - b);
}

function insertList(input: SetCheckInput): { key: string; value: unknown }[] {
  const inserts = input.acknowledged_inserts;
  if (inserts instanceof Map) return [...inserts].map(([key, value]) => ({ key, value }));
  return [...(inserts as ReadonlyArray<{ key: string; value: unknown }>)];
}

/** Only nodes whose rows were read can lose a write; the caller passes exactly those. */
function findLostWrites(input: SetCheckInput, node_ids: readonly NodeId[]): LostWrite[] {
  const deleted = new Set(input.deleted_keys);
  const lost: LostWrite[] = [];
  for (const { key, value } of insertList(input)) {
    if (deleted.has(key)) continue;
    const missing_on_nodes = node_ids.filter((node_id) => !input.final_rows_per_node.get(node_id)!.has(key));
    if (missing_on_nodes.length > 0) lost.push({ key, value, missing_on_nodes });
  }
  return lost.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function findDivergentRows(input: SetCheckInput): DivergentRow[] {
  const node_ids = [...input.final_rows_per_node.keys()].sort((a, b) => a - b);
  const keys = new Set<string>();
  for (const rows of input.final_rows_per_node.values()) for (const key of rows.keys()) keys.add(key);
  const divergent: DivergentRow[] = [];
  for (const key of [...keys].sort()) {
    const value_per_node = node_ids.map((node_id) => {
      const rows = input.final_rows_per_node.get(node_id)!;
      return { node_id, value: rows.has(key) ? canonicalJson(rows.get(key)) : null };
    });
    if (new Set(value_per_node.map((entry) => entry.value)).size > 1) divergent.push({ key, value_per_node });
  }
  return divergent;
}

function findStateHashMismatches(input: SetCheckInput): StateHashMismatch[] {
  const by_index = new Map<number, { node_id: NodeId; state_hash: string }[]>();
  for (const [node_id, { applied_index, state_hash }] of input.state_hash_per_node) {
    let group = by_index.get(applied_index);
    if (group === undefined) by_index.set(applied_index, (group = []));
    group.push({ node_id, state_hash });
  }
  const mismatches: StateHashMismatch[] = [];
  for (const [applied_index, group] of [...by_index].sort((a, b) => a[0] - b[0])) {
    if (new Set(group.map((entry) => entry.state_hash)).size > 1) {
      mismatches.push({ applied_index, state_hash_per_node: group.sort((a, b) => a.node_id - b.node_id) });
    }
  }
  return mismatches;
}

export function checkSet(input: SetCheckInput): SetCheckReport {
  const nodes_checked = sortedNodeIds(input);
  const lost_writes = findLostWrites(input, [...input.final_rows_per_node.keys()].sort((a, b) => a - b));
  const divergent_rows = findDivergentRows(input);
  const state_hash_mismatches = findStateHashMismatches(input);
  const applied_index_per_node = [...input.state_hash_per_node]
    .map(([node_id, { applied_index }]) => ({ node_id, applied_index }))
    .sort((a, b) => a.node_id - b.node_id);
  return {
    valid: lost_writes.length === 0 && divergent_rows.length === 0 && state_hash_mismatches.length === 0,
    acknowledged_insert_count: insertList(input).length,
    nodes_checked,
    lost_writes,
    divergent_rows,
    state_hash_mismatches,
    applied_index_per_node,
  };
}

/** Long lists are cut: the first few items say what went wrong, the count says how much. */
const ITEMS_PER_SECTION_MAX = 20;

function section<T>(title: string, items: readonly T[], line: (item: T) => string): string[] {
  if (items.length === 0) return [];
  const lines = [`  ${title} (${items.length}):`, ...items.slice(0, ITEMS_PER_SECTION_MAX).map((item) => `    ${line(item)}`)];
  if (items.length > ITEMS_PER_SECTION_MAX) lines.push(`    ... and ${items.length - ITEMS_PER_SECTION_MAX} more`);
  return lines;
}

/** The report for a human: a verdict line, then one section per kind of problem. */
export function format(report: SetCheckReport): string {
  const indexes = report.applied_index_per_node.map((entry) => `${entry.node_id}@${entry.applied_index}`).join(' ');
  const lines = [
    `set check: ${report.valid ? 'OK' : 'FAILED'} — ${report.acknowledged_insert_count} acknowledged insert(s), ` +
      `nodes ${report.nodes_checked.join(', ')}; applied index per node: ${indexes || 'unknown'}`,
    ...section('lost writes (acknowledged, never deleted, missing)', report.lost_writes,
      (lost) => `${JSON.stringify(lost.key)} = ${canonicalJson(lost.value)} missing on node(s) ${lost.missing_on_nodes.join(', ')}`),
    ...section('rows that differ between nodes', report.divergent_rows,
      (row) => `${JSON.stringify(row.key)}: ${row.value_per_node.map((entry) => `node ${entry.node_id} ${entry.value ?? '(absent)'}`).join('; ')}`),
    ...section('state hash mismatches at equal applied index', report.state_hash_mismatches,
      (mismatch) => `index ${mismatch.applied_index}: ${mismatch.state_hash_per_node.map((entry) => `node ${entry.node_id} ${entry.state_hash}`).join('; ')}`),
  ];
  return lines.join('\n');
}
