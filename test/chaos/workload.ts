/**
 * Chaos clients: each loops on random operations against random nodes, drawn
 * from its own stream (client-operations.ts), and records them in the
 * history. Registers (table `regs`, a few keys) take updates by the row
 * endpoint and by SQL, strong reads by /search and by SQL, and local reads
 * (unchecked: they may be stale by contract). Table `items` takes unique
 * inserts for the set check.
 */
import type { AxiosResponse } from 'axios';
import type { TestCluster } from '../support/cluster';
import type { Random } from '../support/random';
import { chooseOperation } from './client-operations';
import type { HistoryRecorder, OperationHandle } from './history';

export const REGISTER_TABLE = 'regs';
export const SET_TABLE = 'items';
export const CLIENT_TIMEOUT_MS = 4000;

export interface WorkloadCounts {
  by_kind: Record<string, { ok: number; fail: number; info: number }>;
  acknowledged_inserts: Map<string, string>;
}

type Outcome = { outcome: 'ok'; value?: string | null } | { outcome: 'fail'; code?: string } | { outcome: 'info' };

function classify(response: AxiosResponse): Outcome {
  if (response.status >= 200 && response.status < 300) return { outcome: 'ok' };
  if (response.status === 503) return { outcome: 'info' };
  return { outcome: 'fail', code: (response.data as { error?: { code?: string } })?.error?.code };
}

/** Connection refused: the request never reached a server, so it did nothing. */
function classifyError(error: unknown): Outcome {
  return (error as { code?: string }).code === 'ECONNREFUSED' ? { outcome: 'fail', code: 'ECONNREFUSED' } : { outcome: 'info' };
}

export class Workload {
  readonly counts: WorkloadCounts = { by_kind: {}, acknowledged_inserts: new Map() };
  private running = true;

  constructor(
    private readonly cluster: TestCluster,
    private readonly history: HistoryRecorder,
    private readonly keys: string[],
  ) {}

  stop(): void {
    this.running = false;
  }

  /** Loops until stop(), drawing every operation from this client's own stream. */
  async runClient(process: number, random: Random): Promise<void> {
    let sequence = 0;
    while (this.running) {
      sequence += 1;
      const { kind, node_id, key } = chooseOperation(random, { node_ids: this.cluster.ids(), keys: this.keys });
      if (kind === 'update') await this.update(process, node_id, key, `p${process}-${sequence}`);
      else if (kind === 'sql-update') await this.sqlUpdate(process, node_id, key, `p${process}-${sequence}-sql`);
      else if (kind === 'strong-read') await this.strongRead(process, node_id, key);
      else if (kind === 'sql-strong-read') await this.sqlStrongRead(process, node_id, key);
      else if (kind === 'local-read') await this.localRead(node_id, key);
      else await this.insert(node_id, `p${process}-${sequence}`);
    }
  }

  private count(kind: string, outcome: Outcome['outcome']): void {
    this.counts.by_kind[kind] ??= { ok: 0, fail: 0, info: 0 };
    this.counts.by_kind[kind][outcome] += 1;
  }

  private async call(kind: string, handle: OperationHandle | null, request: () => Promise<AxiosResponse>, readValue?: (data: unknown) => string | null): Promise<void> {
    let outcome: Outcome;
    try {
      const response = await request();
      outcome = classify(response);
      if (outcome.outcome === 'ok' && readValue !== undefined) outcome = { outcome: 'ok', value: readValue(response.data) };
    } catch (error) {
      outcome = classifyError(error);
    }
    this.count(kind, outcome.outcome);
    if (handle === null) return;
    if (outcome.outcome === 'ok') {
      if (readValue !== undefined) this.history.ok(handle, outcome.value ?? null);
      else this.history.ok(handle);
    } else if (outcome.outcome === 'fail') this.history.fail(handle, outcome.code);
    else this.history.info(handle);
  }

  private url(node: number, path: string): string {
    return `${this.cluster.url(node)}${path}`;
  }

  private async update(process: number, node: number, key: string, value: string): Promise<void> {
    const handle = this.history.invoke(process, key, 'update', value);
    await this.call('update', handle, () =>
      this.cluster.client.post(this.url(node, '/update'), { table_name: REGISTER_TABLE, row_id: key, new_data: { v: value } }, { timeout: CLIENT_TIMEOUT_MS }),
    );
  }

  private async sqlUpdate(process: number, node: number, key: string, value: string): Promise<void> {
    const handle = this.history.invoke(process, key, 'update', value);
    await this.call('sql-update', handle, async () => {
      const response = await this.cluster.client.post(
        this.url(node, '/query'),
        { query: `UPDATE ${REGISTER_TABLE} SET v = ? WHERE row_id = ?`, params: [value, key] },
        { timeout: CLIENT_TIMEOUT_MS },
      );
      // An UPDATE that matched no row did nothing: the same as the endpoint's ROW_NOT_FOUND.
      if (response.status === 200 && (response.data as { changes: number }).changes === 0) return { ...response, status: 404 };
      return response;
    });
  }

  private async strongRead(process: number, node: number, key: string): Promise<void> {
    const handle = this.history.invoke(process, key, 'read', null);
    await this.call(
      'strong-read',
      handle,
      () => this.cluster.client.get(this.url(node, `/search?table=${REGISTER_TABLE}&column=row_id&value=${key}&consistency=strong`), { timeout: CLIENT_TIMEOUT_MS }),
      (data) => ((data as { rows: { v: string }[] }).rows[0]?.v ?? null),
    );
  }

  private async sqlStrongRead(process: number, node: number, key: string): Promise<void> {
    const handle = this.history.invoke(process, key, 'read', null);
    await this.call(
      'sql-strong-read',
      handle,
      () =>
        this.cluster.client.post(
          this.url(node, '/query?consistency=strong'),
          { query: `SELECT v FROM ${REGISTER_TABLE} WHERE row_id = ?`, params: [key] },
          { timeout: CLIENT_TIMEOUT_MS },
        ),
      (data) => ((data as { rows: string[][] }).rows[0]?.[0] ?? null),
    );
  }

  private async localRead(node: number, key: string): Promise<void> {
    await this.call('local-read', null, () =>
      this.cluster.client.get(this.url(node, `/search?table=${REGISTER_TABLE}&column=row_id&value=${key}`), { timeout: CLIENT_TIMEOUT_MS }),
    );
  }

  private async insert(node: number, row_id: string): Promise<void> {
    let acknowledged = false;
    await this.call('insert', null, async () => {
      const response = await this.cluster.client.post(this.url(node, '/insert'), { table_name: SET_TABLE, row_id, data: { v: row_id } }, { timeout: CLIENT_TIMEOUT_MS });
      acknowledged = response.status === 201;
      return response;
    });
    if (acknowledged) this.counts.acknowledged_inserts.set(row_id, row_id);
  }
}
