/**
 * Once every node of a local cluster serves: wait until each is ready (GET
 * /ready) and say, in one line a person can act on, which node is master,
 * where every node is, and a command to try.
 */
import type { NodeConfig } from '../../utils/config';

const REQUEST_TIMEOUT_MS = 1000;
const POLL_INTERVAL_MS = 100;

interface MasterView {
  master_id: number | null;
}

async function getJson(url: string): Promise<{ status: number; body: unknown } | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    return { status: response.status, body: await response.json() };
  } catch {
    return null;
  }
}

/** The master every node agrees on once all are ready; null if that does not happen by the deadline. */
export async function waitForReadyCluster(nodes: readonly NodeConfig[], timeout_ms: number, stopped: () => boolean): Promise<number | null> {
  const deadline = Date.now() + timeout_ms;
  while (Date.now() < deadline && !stopped()) {
    const ready = await Promise.all(nodes.map((node) => getJson(`${node.url}/ready`)));
    const views = ready.map((answer) => (answer?.status === 200 ? (answer.body as MasterView).master_id : null));
    const first = views[0] ?? null;
    if (first !== null && views.every((master_id) => master_id === first)) return first;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  return null;
}

export function readyBanner(nodes: readonly NodeConfig[], master_id: number): string {
  const master = nodes.find((node) => node.id === master_id) as NodeConfig;
  const slaves = nodes.filter((node) => node.id !== master_id).map((node) => `node ${node.id} ${node.url}`);
  const others = slaves.length === 0 ? '' : `, slaves ${slaves.join(', ')}`;
  return `cluster ready: master node ${master.id} ${master.url}${others}; try: curl -s ${master.url}/status (Ctrl-C stops every node)`;
}
