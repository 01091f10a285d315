/**
 * Once every node of a local cluster serves: wait until each is ready (GET
 * /ready) and say, in one line a person can act on, which node is master,
 * where every node is, and a command to try. With https:// URLs the nodes'
 * certificates are checked against the cluster's CA, as any client would.
 */
import http from 'node:http';
import https from 'node:https';
import type { NodeConfig } from '../../utils/config';

const REQUEST_TIMEOUT_MS = 1000;
const POLL_INTERVAL_MS = 100;

interface MasterView {
  master_id: number | null;
}

/** The status and JSON body of a GET; null when there is no answer (or no JSON) within the timeout. */
function getJson(url: string, ca: Buffer | undefined): Promise<{ status: number; body: unknown } | null> {
  return new Promise((resolve) => {
    const options = { timeout: REQUEST_TIMEOUT_MS, ...(ca === undefined ? {} : { ca }) };
    const request = (url.startsWith('https:') ? https : http).get(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', () => resolve(null));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
        } catch {
          resolve(null);
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve(null));
  });
}

/** The master every node agrees on once all are ready; null if that does not happen by the deadline. */
export async function waitForReadyCluster(options: {
  nodes: readonly NodeConfig[];
  timeout_ms: number;
  stopped: () => boolean;
  /** The cluster's CA, with https:// URLs. */
  ca?: Buffer;
}): Promise<number | null> {
  const { nodes, timeout_ms, stopped, ca } = options;
  const deadline = Date.now() + timeout_ms;
  while (Date.now() < deadline && !stopped()) {
    const ready = await Promise.all(nodes.map((node) => getJson(`${node.url}/ready`, ca)));
    const views = ready.map((answer) => (answer?.status === 200 ? (answer.body as MasterView).master_id : null));
    const first = views[0] ?? null;
    if (first !== null && views.every((master_id) => master_id === first)) return first;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  return null;
}

/** `ca_file`: with https:// URLs, the CA the suggested curl needs to trust the nodes; `users`: the cluster has users, so the curl needs one. */
export function readyBanner(nodes: readonly NodeConfig[], master_id: number, ca_file?: string, users = false): string {
  const master = nodes.find((node) => node.id === master_id) as NodeConfig;
  const slaves = nodes.filter((node) => node.id !== master_id).map((node) => `node ${node.id} ${node.url}`);
  const others = slaves.length === 0 ? '' : `, slaves ${slaves.join(', ')}`;
  return `cluster ready: master node ${master.id} ${master.url}${others}; try: curl -s ${ca_file === undefined ? '' : `--cacert ${ca_file} `}${users ? '-u USER:PASSWORD ' : ''}${master.url}/status (Ctrl-C stops every node)`;
}
