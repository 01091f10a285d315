/**
 * npm run demo:failover — a local 3-node cluster on free loopback ports with
 * persistence on: write rows, SIGKILL the master, watch the lowest-id live
 * slave take over with every acknowledged row, restart the old master and
 * watch it rejoin as a slave. Each step prints its timing.
 */
import { TestCluster } from '../test/support/cluster';
import { pollUntil } from '../test/support/poll';
import { missing, rowIdsOn } from '../test/support/writers';

const ROWS = 200;
const started = Date.now();
const say = (message: string) => process.stdout.write(`[+${((Date.now() - started) / 1000).toFixed(2)}s] ${message}\n`);

async function insertRows(cluster: TestCluster, from: number, count: number, node: number, acknowledged: Set<string>) {
  for (let i = from; i < from + count; i += 1) {
    const response = await cluster.client.post(`${cluster.url(node)}/insert`, { table_name: 'accounts', row_id: `a${i}`, data: { owner: `user${i}`, balance: i } });
    if (response.status === 201) acknowledged.add(`a${i}`);
  }
}

async function main(): Promise<void> {
  const cluster = await TestCluster.create({ size: 3, heartbeat_ms: 100, failover_timeout_ms: 1000, election_stagger_ms: 300 });
  try {
    say(`starting 3 nodes: ${[...cluster.urls.values()].join(', ')} (data in ${cluster.dir})`);
    await cluster.startAll();
    const master = await cluster.waitForMaster();
    say(`node ${master} is master`);
    await cluster.client.post(`${cluster.url(master)}/create_table`, { table_name: 'accounts', columns: ['owner', 'balance'] });
    const acknowledged = new Set<string>();
    await insertRows(cluster, 0, ROWS, 2, acknowledged);
    say(`${acknowledged.size} rows acknowledged (written through slave node 2, forwarded to the master)`);

    say(`SIGKILL node ${master} (the master)`);
    const killedAt = Date.now();
    await cluster.signal(master, 'SIGKILL');
    const survivors = cluster.ids().filter((id) => id !== master);
    await pollUntil(
      async () => (await cluster.client.post(`${cluster.url(survivors[1])}/insert`, { table_name: 'accounts', row_id: 'after-failover', data: { owner: 'x', balance: 0 } }, { timeout: 3000 })).status === 201,
      { timeout_ms: 20_000, interval_ms: 10, what: 'the first acknowledged write after the kill' },
    );
    acknowledged.add('after-failover');
    const newMaster = await cluster.waitForMaster(survivors);
    say(`node ${newMaster} promoted itself; first write acknowledged ${Date.now() - killedAt} ms after the kill`);
    for (const id of survivors) {
      const lost = missing(acknowledged, await rowIdsOn(cluster, id, 'accounts'));
      say(`node ${id}: ${lost.length === 0 ? `all ${acknowledged.size} acknowledged rows present` : `MISSING ${lost.join(', ')}`}`);
      if (lost.length > 0) process.exitCode = 1;
    }

    say(`restarting node ${master}`);
    cluster.start(master);
    const statuses = await cluster.waitForConvergence(cluster.ids());
    const rejoined = statuses.find((status) => status.id === master);
    say(`node ${master} rejoined as ${rejoined?.role} in term ${rejoined?.term}; all nodes at applied_index ${rejoined?.applied_index} with state_hash ${rejoined?.state_hash.slice(0, 12)}…`);
    const lost = missing(acknowledged, await rowIdsOn(cluster, master, 'accounts'));
    say(`node ${master}: ${lost.length === 0 ? `all ${acknowledged.size} acknowledged rows present` : `MISSING ${lost.length} rows`}`);
    if (lost.length > 0) process.exitCode = 1;
  } finally {
    await cluster.destroy();
  }
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${(error as Error).stack}\n`);
  process.exitCode = 1;
});
