/**
 * Concurrent clients that insert rows and remember what the cluster
 * acknowledged, so a test can check that no acknowledged write was lost.
 */
import type { TestCluster } from './cluster';

export interface WriteLog {
  acknowledged: Set<string>;
  /** Timed out or 503: may or may not have been applied. */
  indeterminate: Set<string>;
  refused: number;
}

export function newWriteLog(): WriteLog {
  return { acknowledged: new Set(), indeterminate: new Set(), refused: 0 };
}

/** Runs `clients` loops inserting into `table` through the given nodes until `stop()` is called, or the cluster is destroyed. */
export function startWriters(cluster: TestCluster, options: { table: string; clients: number; node_ids: () => number[]; log: WriteLog }) {
  let running = true;
  let sequence = 0;
  const loops = Array.from({ length: options.clients }, async (_unused, client) => {
    while (running) {
      const ids = options.node_ids();
      const target = ids[(client + sequence) % ids.length];
      sequence += 1;
      const row_id = `c${client}-${sequence}`;
      try {
        const response = await cluster.client.post(
          `${cluster.url(target)}/insert`,
          { table_name: options.table, row_id, data: { v: sequence } },
          { timeout: 3000 },
        );
        if (response.status === 201) options.log.acknowledged.add(row_id);
        else if (response.status === 503) options.log.indeterminate.add(row_id);
        else options.log.refused += 1;
      } catch {
        options.log.indeterminate.add(row_id);
        // The target is down: do not spin on connection errors.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  });
  const stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  cluster.atDestroy(stop);
  return stop;
}

export async function rowIdsOn(cluster: TestCluster, id: number, table: string): Promise<Set<string>> {
  const response = await cluster.client.get(`${cluster.url(id)}/select?table=${table}`);
  if (response.status !== 200) throw new Error(`select on node ${id}: ${response.status} ${JSON.stringify(response.data)}`);
  return new Set((response.data.rows as { row_id: string }[]).map((row) => row.row_id));
}

export function missing(acknowledged: Set<string>, present: Set<string>): string[] {
  return [...acknowledged].filter((row_id) => !present.has(row_id));
}
