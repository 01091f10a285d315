/**
 * One image at a time on a peer connection (found by review): the receiving
 * end assembles one image per connection, and a new SNAPSHOT_BEGIN drops an
 * unfinished one, so two repair images in flight at once interleaved their
 * parts and neither arrived. Now a repair image is not started while another
 * image is on its way on that connection. Two real nodes, in this process.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { createApp } from '../../src/http/app';
import { createServer, listen } from '../../src/http/server';
import { createNode, type ProcessNode } from '../../src/node/create-node';
import type { InstallSnapshot } from '../../src/replication/messages';
import { snapshotChecksum } from '../../src/replication/peer-validation';
import { parseConfig } from '../../utils/config';
import { createSilentLogger } from '../../utils/logger';
import { freePort } from '../support/cluster';
import { pollUntil } from '../support/poll';

jest.setTimeout(30_000);

const TIMINGS = { heartbeat_ms: 20, failover_timeout_ms: 500, election_stagger_ms: 50, log_entries_max: 10_000, write_timeout_ms: 2000 };

async function run(count: number): Promise<number[]> {
  const ports = [await freePort(), await freePort()];
  const config = parseConfig({ nodes: ports.map((port, index) => ({ id: index + 1, url: `http://127.0.0.1:${port}` })), ...TIMINGS });
  const logger = createSilentLogger();
  const secret = randomBytes(32);
  const nodes: ProcessNode[] = [];
  const servers: http.Server[] = [];
  try {
    for (const self of config.nodes) {
      const process_node = createNode({ config, self, data_dir: null, logger, cluster_secret: secret });
      const server = createServer(process_node, createApp(process_node.node, { logger, body_limit_bytes: config.body_limit_bytes }), logger);
      await listen(server, Number(new URL(self.url).port), '127.0.0.1');
      process_node.node.start();
      nodes.push(process_node);
      servers.push(server);
    }
    await pollUntil(() => nodes.every((each) => each.node.replicaStatus().master_id !== null && each.node.replicaStatus().master_id === nodes[0]!.node.replicaStatus().master_id), { timeout_ms: 10_000, interval_ms: 10, what: 'a master' });
    const master_id = nodes[0]!.node.replicaStatus().master_id as number;
    const slave_id = master_id === 1 ? 2 : 1;
    const master = nodes[master_id - 1]!;
    const slave = nodes[slave_id - 1]!;
    const arrived: number[] = [];
    const receive = slave.node.receive.bind(slave.node);
    slave.node.receive = (messages) => {
      for (const message of messages) if (message.type === 'install_snapshot' && message.repair === true) arrived.push(message.snapshot.meta.last_index);
      receive(messages);
    };
    const status = master.node.replicaStatus();
    const repair = (last_index: number): InstallSnapshot => {
      const data = new Uint8Array(randomBytes(16 * 1024 * 1024));
      return { type: 'install_snapshot', from: master_id, to: slave_id, term: status.term, snapshot: { meta: { last_index, last_term: status.term }, data }, checksum: snapshotChecksum(data), live_ids: [master_id, slave_id], read_context: 0, repair: true };
    };
    // As answerRepair sends them: the second while the first is still in flight.
    for (let index = 1; index <= count; index += 1) master.transport.send([repair(index)]);
    await pollUntil(() => arrived.length > 0 || null, { timeout_ms: 15_000, what: 'a repair image to arrive' });
    return arrived;
  } finally {
    for (const [index, server] of servers.entries()) {
      nodes[index]!.node.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }
}

test('control: one repair image arrives', async () => {
  expect(await run(1)).toEqual([1]);
});

test('two repair images sent to one slave at once: the first arrives whole, the second is not started', async () => {
  expect(await run(2)).toEqual([1]);
});
