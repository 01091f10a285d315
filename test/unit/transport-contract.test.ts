/**
 * One contract for both implementations of PeerTransport: ChannelTransport
 * (authenticated connections on loopback, src/replication/channel-transport.ts) and the
 * simulator's SimTransport. Over each, two real nodes elect a master
 * (messages both ways), a slave forwards a write and gets its answer, a
 * slave's strong read gets a read index, and a request to a master that is
 * gone fails at once: refused (ECONNREFUSED: the slave may retry elsewhere)
 * or, on a kept-alive connection, reset (ECONNRESET: the slave cannot know).
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Command } from '../../database/commands';
import { createApp } from '../../src/http/app';
import { createServer, listen } from '../../src/http/server';
import { createNode, type ProcessNode } from '../../src/node/create-node';
import type { DdbNode } from '../../src/node/node';
import type { PeerTransport } from '../../src/node/peer-transport';
import { parseConfig } from '../../utils/config';
import { createSilentLogger } from '../../utils/logger';
import { freePort } from '../support/cluster';
import { pollUntil } from '../support/poll';
import { Random } from '../support/random';
import { NodeSimCluster } from '../sim/node/node-cluster';
import { CALM_LINKS } from '../sim/node/sim-links';

jest.setTimeout(30_000);

const TIMINGS = { heartbeat_ms: 20, failover_timeout_ms: 200, election_stagger_ms: 50, log_entries_max: 10_000, write_timeout_ms: 2000 };
const LIMITS = { entries_per_append_max: 64, inflight_appends_max: 4, proposals_pending_max: 100, read_requests_max: 100 };
const CREATE: Command = { type: 'create_table', db_name: null, table_name: 't', columns: ['v'] };
const INSERT: Command = { type: 'insert', db_name: null, table_name: 't', row_id: 'r1', data: { v: 1 } };

interface TwoNodes {
  node(id: number): DdbNode;
  transport(id: number): PeerTransport;
  /** Waits (in the implementation's time) until `check` holds. */
  until(check: () => boolean, what: string): Promise<void>;
  settle<T>(promise: Promise<T>): Promise<T>;
  kill(id: number): Promise<void>;
  close(): Promise<void>;
}

async function httpPair(): Promise<TwoNodes> {
  const ports = [await freePort(), await freePort()];
  const config = parseConfig({ nodes: ports.map((port, index) => ({ id: index + 1, url: `http://127.0.0.1:${port}` })), ...TIMINGS });
  const logger = createSilentLogger();
  const secret = randomBytes(32);
  const nodes: ProcessNode[] = [];
  const servers: http.Server[] = [];
  for (const self of config.nodes) {
    const process_node = createNode({ config, self, data_dir: null, logger, cluster_secret: secret });
    const server = createServer(process_node, createApp(process_node.node, { logger, body_limit_bytes: config.body_limit_bytes }), logger);
    await listen(server, Number(new URL(self.url).port), '127.0.0.1');
    process_node.node.start();
    nodes.push(process_node);
    servers.push(server);
  }
  const kill = async (id: number) => {
    const server = servers[id - 1] as http.Server;
    // The node first: stopping it closes its peer connections, which the server's close() waits for.
    (nodes[id - 1] as ProcessNode).node.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return {
    node: (id) => (nodes[id - 1] as ProcessNode).node,
    transport: (id) => (nodes[id - 1] as ProcessNode).transport,
    until: (check, what) => pollUntil(check, { timeout_ms: 10_000, interval_ms: 10, what }).then(() => undefined),
    settle: (promise) => promise,
    kill,
    close: async () => {
      for (const [index, server] of servers.entries()) {
        if (server.listening) await kill(index + 1);
      }
    },
  };
}

async function simPair(): Promise<TwoNodes> {
  const cluster = new NodeSimCluster({ random: new Random(1), node_count: 2, timings: TIMINGS, limits: LIMITS, links: CALM_LINKS, crash_in_sync_probability: 0 });
  const member = (id: number) => cluster.member(id);
  const settle = async <T>(promise: Promise<T>): Promise<T> => {
    let settled = false;
    void promise.finally(() => (settled = true)).catch(() => undefined);
    for (let waited_ms = 0; !settled; waited_ms += 10) {
      if (waited_ms > 20_000) throw new Error('did not settle in 20 s of simulated time');
      await cluster.run(10);
    }
    return promise;
  };
  return {
    node: (id) => member(id).node as DdbNode,
    transport: (id) => member(id).transport as PeerTransport,
    until: async (check, what) => {
      for (let waited_ms = 0; !check(); waited_ms += 10) {
        if (waited_ms > 20_000) throw new Error(`timed out waiting for ${what}`);
        await cluster.run(10);
      }
    },
    settle,
    kill: async (id) => cluster.crash(id),
    close: async () => undefined,
  };
}

describe.each([
  ['ChannelTransport (authenticated connections on loopback)', httpPair],
  ['SimTransport (simulated network)', simPair],
])('%s', (_name, make) => {
  let pair: TwoNodes;
  beforeEach(async () => {
    pair = await make();
  });
  afterEach(() => pair.close());

  it('carries elections, forwarded writes and read indexes; a request to a gone master fails at once', async () => {
    await pair.until(() => [1, 2].every((id) => pair.node(id).replicaStatus().master_id === 1), 'both nodes to follow node 1');
    await pair.settle(pair.node(1).writeAsMaster(CREATE));
    expect(await pair.settle(pair.node(2).write(INSERT))).toEqual({ row_id: 'r1', v: 1 });
    expect(pair.node(1).engine.getRow(null, 't', 'r1')).toEqual({ row_id: 'r1', v: 1 });
    await pair.settle(pair.node(2).readBarrier('strong'));
    expect(pair.node(2).engine.getRow(null, 't', 'r1')).toEqual({ row_id: 'r1', v: 1 });
    const answer = await pair.settle(pair.transport(2).readIndex(1, 1000));
    expect(answer).toEqual({ ok: true, index: expect.any(Number) });

    await pair.kill(1);
    const failure = await pair.settle(pair.transport(2).forwardWrites(1, [{ command: INSERT, user: null }], 1000).then(() => null, (error: { code?: string }) => error.code));
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain(failure);
  });
});
