/**
 * CPU per majority-acknowledged insert, per node, and inserts/s at 50 clients for 8 s, then 1 500
 * inserts from 1 client: for A/B runs of whole trees side by side (node scripts/bench-cpu-per-write.js <tree>,
 * after building each tree). Node CPU is read from /proc/<pid>/stat, which a noisy neighbour moves
 * less than it moves throughput.
 */
const path = require('path');
const fs = require('fs');
const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..'));
const { TestCluster } = require(path.join(root, 'dist/test/support/cluster.js'));
const { load } = require(path.join(root, 'dist/scripts/bench-support.js'));
function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in ticks of 10 ms
}
(async () => {
  const cluster = await TestCluster.create({ size: 3, heartbeat_ms: 100, failover_timeout_ms: 1000, election_stagger_ms: 300 });
  try {
    await cluster.startAll();
    const master = await cluster.waitForMaster();
    await cluster.client.post(`${cluster.url(master)}/create_table`, { table_name: 'items', columns: ['v'] });
    let n = 0;
    const body = () => ({ table_name: 'items', row_id: `w${(n += 1)}`, data: { v: n } });
    await load({ name: 'warm', url: `${cluster.url(master)}/insert`, method: 'POST', body, connections: 50, amount: 3000, duration_s: 30 });
    const pids = new Map(cluster.ids().map((id) => [id, cluster.processes.get(id).pid]));
    const before = new Map([...pids].map(([id, pid]) => [id, cpuMs(pid)]));
    const started = Date.now();
    const result = await load({ name: 'insert', url: `${cluster.url(master)}/insert`, method: 'POST', body, connections: 50, duration_s: 8 });
    const DONE = result.requests;
    const seconds = (Date.now() - started) / 1000;
    const single = await load({ name: 'one', url: `${cluster.url(master)}/insert`, method: 'POST', body, connections: 1, amount: 1500, duration_s: 30 });
    const per = [...pids].map(([id, pid]) => `${id === master ? 'master' : 'slave'} ${(((cpuMs(pid) - before.get(id)) * 1000) / DONE).toFixed(0)}`);
    console.log(`${path.basename(root).padEnd(10)} 50 clients ${(DONE / seconds).toFixed(0)} inserts/s (non-2xx ${result.non_2xx}); CPU µs per insert: ${per.join(', ')}; 1 client ${single.requests_per_s}/s p50 ${single.p50_ms} ms p99 ${single.p99_ms} ms`);
  } finally {
    await cluster.destroy();
  }
})();
