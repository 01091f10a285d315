/**
 * SQL point reads (POST /query, a SELECT by key) on a slave of a 3-node cluster: reads/s at 50
 * clients for 8 s, then 1 client for 3 000 reads, and the slave's CPU per read (from /proc). For
 * A/B runs of whole trees side by side (node scripts/bench-query-reads.js <tree>, after building
 * each tree): since issue 12 such reads run in SQL executor processes, not in the node.
 */
const path = require('path');
const fs = require('fs');
const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..'));
const { TestCluster } = require(path.join(root, 'dist/test/support/cluster.js'));
const { load } = require(path.join(root, 'dist/scripts/bench-support.js'));
const ROWS = 1000;
function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in ticks of 10 ms
}
/** The CPU of a process and of its children (the SQL executors) that are still running. */
function treeCpuMs(pid) {
  let total = cpuMs(pid);
  for (const child of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = fs.readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1].split(' ');
      if (Number(stat[1]) === pid) total += cpuMs(Number(child));
    } catch {
      // ended meanwhile
    }
  }
  return total;
}
(async () => {
  const cluster = await TestCluster.create({ size: 3, heartbeat_ms: 100, failover_timeout_ms: 1000, election_stagger_ms: 300 });
  try {
    await cluster.startAll();
    const master = await cluster.waitForMaster();
    const slave = cluster.ids().find((id) => id !== master);
    await cluster.client.post(`${cluster.url(master)}/query`, { query: 'CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)' });
    for (let first = 0; first < ROWS; first += 100) {
      const values = Array.from({ length: 100 }, (_, i) => `(${first + i}, 'value ${first + i}')`).join(', ');
      await cluster.client.post(`${cluster.url(master)}/query`, { query: `INSERT INTO kv VALUES ${values}` });
    }
    await cluster.waitForConvergence(cluster.ids());
    let n = 0;
    const body = () => ({ query: `SELECT v FROM kv WHERE k = ${(n += 7) % ROWS}` });
    const url = `${cluster.url(slave)}/query`;
    await load({ name: 'warm', url, method: 'POST', body, connections: 50, amount: 3000, duration_s: 30 });
    const pid = cluster.processes.get(slave).pid;
    const before = treeCpuMs(pid);
    const many = await load({ name: 'reads', url, method: 'POST', body, connections: 50, duration_s: 8 });
    const per_read_us = ((treeCpuMs(pid) - before) * 1000) / many.requests;
    const one = await load({ name: 'one', url, method: 'POST', body, connections: 1, amount: 3000, duration_s: 30 });
    console.log(
      `${path.basename(root).padEnd(10)} /query point reads on a slave: 50 clients ${many.requests_per_s}/s (non-2xx ${many.non_2xx}), ` +
        `CPU ${per_read_us.toFixed(0)} µs per read (node and executors); 1 client ${one.requests_per_s}/s p50 ${one.p50_ms} ms p99 ${one.p99_ms} ms`,
    );
  } finally {
    await cluster.destroy();
  }
})();
