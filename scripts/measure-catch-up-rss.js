/**
 * Peak memory of every node process while a slave with an empty disk is
 * caught up from a snapshot of a large database (issue 12):
 *
 *   node scripts/measure-catch-up-rss.js <tree> <size_mb> [--base-port 19500] [--failover-ms 2000]
 *     [--deadline-s 600] [--settle-s 40] [--log-level info] [--no-verify] [--timeline] [--keep]
 *
 * <tree> is a built ddb tree (its dist/src/main.js runs the nodes); <size_mb>
 * rows of 1 MB (zeroblob) go in, 10 per statement. Three nodes on 127.0.0.1
 * ports base+1..base+3 (no other port is used); a slave is SIGKILLed, the rows
 * are written (a write that meets 503, 307 or a dropped connection is sent
 * again to another node: big writes can cause elections), more entries follow
 * until every live node has compacted past the rows; then the killed slave's
 * data directory is deleted and it is started again, and /status is polled on
 * every node until all have the same applied_index and state_hash.
 *
 * VmRSS and VmHWM of every node process and of each of its descendants (the
 * SQL executor child, reported on a line of its own) are read from /proc
 * every 200 ms throughout, and VmHWM is reset (clear_refs 5) when the
 * catch-up starts, so the HWM column is the true peak between two samples.
 * Printed: a table per process (RSS before the catch-up, sampled peak and
 * HWM during it, RSS after it settled, and while a verifying SELECT runs on
 * the caught-up node), the catch-up time, crashes, elections (role changes
 * in the logs), write retries, and error lines. Every sample is in rss.csv and
 * every node's output in node-<id>.out/.err of the run directory, which
 * --keep keeps (it is deleted otherwise unless something failed).
 * Plain Node, no dependencies; every process it starts is ended by its PID.
 */
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');

const USAGE = 'usage: node scripts/measure-catch-up-rss.js <tree> <size_mb> [--base-port N] [--failover-ms N] [--deadline-s N] [--settle-s N] [--log-level L] [--no-verify] [--timeline] [--keep]';
const SAMPLE_MS = 200;
const ROWS_PER_STATEMENT = 10;
const ROW_BYTES = 1_000_000;

function parseArgs(argv) {
  const options = { timeline: false, base_port: 19500, failover_ms: 2000, deadline_s: 600, settle_s: 40, log_level: 'info', verify: true, keep: false };
  const positional = [];
  for (let i = 0; i < argv.length; i += 1) {
    const word = argv[i];
    const value = () => {
      const next = argv[(i += 1)];
      if (next === undefined) throw new Error(`${word} needs a value`);
      return next;
    };
    if (word === '--base-port') options.base_port = Number(value());
    else if (word === '--failover-ms') options.failover_ms = Number(value());
    else if (word === '--deadline-s') options.deadline_s = Number(value());
    else if (word === '--settle-s') options.settle_s = Number(value());
    else if (word === '--log-level') options.log_level = value();
    else if (word === '--no-verify') options.verify = false;
    else if (word === '--keep') options.keep = true;
    else if (word === '--timeline') options.timeline = true;
    else if (word.startsWith('--')) throw new Error(`unknown option ${word}`);
    else positional.push(word);
  }
  if (positional.length !== 2) throw new Error('a tree and a size in MB are needed');
  options.tree = path.resolve(positional[0]);
  options.size_mb = Number(positional[1]);
  if (!Number.isInteger(options.size_mb) || options.size_mb < ROWS_PER_STATEMENT) throw new Error(`size_mb must be an integer of at least ${ROWS_PER_STATEMENT}`);
  if (!fs.existsSync(path.join(options.tree, 'dist', 'src', 'main.js'))) throw new Error(`${options.tree} has no dist/src/main.js: build it first (npx tsc -p tsconfig.json)`);
  return options;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (kb) => (kb === null || kb === undefined ? '-' : (kb / 1024).toFixed(0));

// ---- HTTP ------------------------------------------------------------------

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** One request; resolves { status, headers, body } or { status: 0, error } (never rejects). */
function request(url, { method = 'GET', body = null, timeout_ms = 10_000 } = {}) {
  return new Promise((resolve) => {
    const data = body === null ? null : Buffer.from(JSON.stringify(body));
    const req = http.request(url, { method, agent, timeout: timeout_ms, headers: data === null ? {} : { 'content-type': 'application/json', 'content-length': data.length } }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed });
      });
      res.on('error', (error) => resolve({ status: 0, error: error.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeout_ms} ms`)));
    req.on('error', (error) => resolve({ status: 0, error: error.message }));
    if (data !== null) req.write(data);
    req.end();
  });
}

// ---- the cluster -------------------------------------------------------------

class Cluster {
  constructor(options) {
    this.options = options;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-catch-up-rss-'));
    this.ids = [1, 2, 3];
    this.url = (id) => `http://127.0.0.1:${options.base_port + id}`;
    this.children = new Map();
    /** Every exit of a node process: { id, pid, code, signal, expected, at_ms }. */
    this.exits = [];
    this.config_file = path.join(this.dir, 'config.json');
    const config = {
      nodes: this.ids.map((id) => ({ id, url: this.url(id) })),
      heartbeat_ms: 100,
      failover_timeout_ms: options.failover_ms,
      election_stagger_ms: 300,
      data_dir: path.join(this.dir, 'data'),
      log_entries_max: 10,
      // The largest the config takes (SQLite's in-memory ceiling): a database of ~size_mb must fit.
      database_size_max_bytes: 1_073_741_824,
      statement_timeout_ms: 120_000,
      write_timeout_ms: 120_000,
    };
    fs.writeFileSync(this.config_file, JSON.stringify(config, null, 2));
    const flags = require(path.join(options.tree, 'dist', 'src', 'cli', 'runtime-flags.js')).NODE_RUNTIME_FLAGS;
    this.node_args = (id) => [...flags, path.join(options.tree, 'dist', 'src', 'main.js'), String(options.base_port + id), '--config', this.config_file, '--data-dir', path.join(this.dir, 'data'), '--log-level', options.log_level];
  }

  out(id) {
    return path.join(this.dir, `node-${id}.out`);
  }

  err(id) {
    return path.join(this.dir, `node-${id}.err`);
  }

  start(id) {
    if (this.children.has(id)) throw new Error(`node ${id} is already running`);
    const out = fs.openSync(this.out(id), 'a');
    const err = fs.openSync(this.err(id), 'a');
    const child = spawn(process.execPath, this.node_args(id), { stdio: ['ignore', out, err], cwd: this.options.tree, env: { ...process.env, DDB_LOG_FORMAT: 'json' } });
    fs.closeSync(out);
    fs.closeSync(err);
    const entry = { child, pid: child.pid, expected_exit: false };
    started_pids.add(child.pid);
    this.children.set(id, entry);
    child.once('exit', (code, signal) => {
      started_pids.delete(child.pid);
      this.exits.push({ id, pid: child.pid, code, signal, expected: entry.expected_exit, at_ms: Date.now() });
      if (this.children.get(id) === entry) this.children.delete(id);
    });
  }

  pid(id) {
    return this.children.get(id)?.pid ?? null;
  }

  async kill(id, signal = 'SIGKILL') {
    const entry = this.children.get(id);
    if (entry === undefined) return;
    entry.expected_exit = true;
    const exited = new Promise((resolve) => entry.child.once('exit', resolve));
    try {
      process.kill(entry.pid, 'SIGCONT');
      process.kill(entry.pid, signal);
    } catch {
      // already gone
    }
    await Promise.race([exited, sleep(10_000)]);
  }

  async status(id) {
    const answer = await request(`${this.url(id)}/status`, { timeout_ms: 2000 });
    return answer.status === 200 && typeof answer.body === 'object' ? answer.body : null;
  }

  async statuses() {
    return Promise.all(this.ids.map((id) => this.status(id)));
  }

  async destroy() {
    for (const id of [...this.children.keys()]) await this.kill(id);
    agent.destroy();
  }
}

/** Polls `check` every interval_ms until it returns non-null, or null after timeout_ms. */
async function pollFor(check, { timeout_ms, interval_ms = 200 }) {
  const deadline = Date.now() + timeout_ms;
  for (let round = 0; round < 1_000_000 && Date.now() <= deadline; round += 1) {
    const value = await check();
    if (value !== null && value !== undefined && value !== false) return value;
    await sleep(interval_ms);
  }
  return null;
}

// ---- memory sampling -----------------------------------------------------------

function readStatusKb(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => {
      const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
      return match === null ? null : Number(match[1]);
    };
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return null;
  }
}

/** Parent pid of every process, read once per sample (there is no /proc/<pid>/task/<pid>/children everywhere). */
function parentsByPid() {
  const parents = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(name), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  return parents;
}

function descendantsOf(pid, parents) {
  const found = [];
  let frontier = [pid];
  for (let depth = 0; depth < 8 && frontier.length > 0; depth += 1) {
    const next = [];
    for (const [child, parent] of parents) if (frontier.includes(parent)) next.push(child);
    found.push(...next);
    frontier = next;
  }
  return found;
}

class Sampler {
  constructor(cluster, csv_file) {
    this.cluster = cluster;
    this.phase = 'start';
    this.started_ms = Date.now();
    /** When each phase started, in order: log lines are put in phases by their timestamps. */
    this.phase_starts = [{ phase: 'start', at_ms: this.started_ms }];
    /** pid → { pid, id, kind, phases: Map(phase → { n, first, last, max, max_at_ms, hwm }) } */
    this.procs = new Map();
    this.csv = fs.openSync(csv_file, 'w');
    fs.writeSync(this.csv, 'time_iso,t_ms,phase,node,kind,pid,rss_kb,hwm_kb\n');
    this.timer = null;
    this.samples = 0;
    /** The catch-up's samples, for --timeline. */
    this.timeline = [];
  }

  start() {
    this.tick();
    this.timer = setInterval(() => this.tick(), SAMPLE_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.tick();
    fs.closeSync(this.csv);
  }

  /** Ends the current phase with every process's VmHWM, and starts the next; reset_hwm clears VmHWM first. */
  setPhase(phase, { reset_hwm = false } = {}) {
    this.tick();
    this.closePhase();
    if (reset_hwm) {
      for (const pid of this.livePids()) {
        try {
          fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
        } catch (error) {
          this.hwm_reset_error = error.message;
        }
      }
    }
    this.phase = phase;
    this.phase_starts.push({ phase, at_ms: Date.now() });
    this.tick();
  }

  closePhase() {
    for (const proc of this.procs.values()) {
      const stats = proc.phases.get(this.phase);
      if (stats === undefined) continue;
      const now = readStatusKb(proc.pid);
      if (now !== null) stats.hwm = now.hwm;
    }
  }

  /** The phase that was running at `ms`, and when it started. */
  phaseAt(ms) {
    let found = this.phase_starts[0];
    for (const start of this.phase_starts) if (start.at_ms <= ms) found = start;
    return found;
  }

  livePids() {
    const parents = parentsByPid();
    const pids = [];
    for (const id of this.cluster.ids) {
      const pid = this.cluster.pid(id);
      if (pid === null) continue;
      pids.push({ pid, id, kind: 'node' });
      for (const child of descendantsOf(pid, parents)) pids.push({ pid: child, id, kind: 'executor' });
    }
    this.last_live = pids;
    return pids.map((proc) => proc.pid);
  }

  tick() {
    this.samples += 1;
    const now_ms = Date.now();
    this.livePids();
    for (const { pid, id, kind } of this.last_live) {
      const kb = readStatusKb(pid);
      if (kb === null || kb.rss === null) continue;
      let proc = this.procs.get(pid);
      if (proc === undefined) {
        proc = { pid, id, kind, phases: new Map(), first_ms: now_ms };
        this.procs.set(pid, proc);
      }
      proc.last_ms = now_ms;
      let stats = proc.phases.get(this.phase);
      if (stats === undefined) {
        stats = { n: 0, first: kb.rss, last: kb.rss, max: kb.rss, max_at_ms: now_ms, hwm: kb.hwm };
        proc.phases.set(this.phase, stats);
      }
      stats.n += 1;
      stats.last = kb.rss;
      stats.hwm = kb.hwm;
      if (kb.rss > stats.max) {
        stats.max = kb.rss;
        stats.max_at_ms = now_ms;
      }
      if (this.phase === 'catch-up') this.timeline.push({ ms: now_ms, id, kind, pid, rss: kb.rss });
      fs.writeSync(this.csv, `${new Date(now_ms).toISOString()},${now_ms - this.started_ms},${this.phase},${id},${kind},${pid},${kb.rss},${kb.hwm}\n`);
    }
  }
}

// ---- the writes ------------------------------------------------------------------

class Writer {
  constructor(cluster) {
    this.cluster = cluster;
    this.statements = 0;
    this.retries = 0;
    this.failures = [];
    this.preferred = 1;
  }

  /** Sends `query` until a node answers 200: 307 is followed, 503/timeouts/dropped connections go to the next node. Bounded in attempts and time. */
  async write(query) {
    const deadline = Date.now() + 300_000;
    let url = `${this.cluster.url(this.preferred)}/query`;
    for (let attempt = 0; attempt < 200 && Date.now() < deadline; attempt += 1) {
      const answer = await request(url, { method: 'POST', body: { query }, timeout_ms: 150_000 });
      if (answer.status === 200) {
        this.statements += 1;
        this.preferred = Number(new URL(url).port) - this.cluster.options.base_port;
        return answer.body;
      }
      if (answer.status === 307 && typeof answer.headers.location === 'string') {
        url = answer.headers.location;
        continue; // a redirect is not a retry
      }
      this.retries += 1;
      const why = answer.status === 0 ? answer.error : `${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`;
      if (this.failures.length < 20) this.failures.push(`${new Date().toISOString()} ${url}: ${why}`);
      const live = this.cluster.ids.filter((id) => this.cluster.pid(id) !== null);
      const current = Number(new URL(url).port) - this.cluster.options.base_port;
      const next = live[(live.indexOf(current) + 1) % live.length] ?? live[0];
      url = `${this.cluster.url(next)}/query`;
      await sleep(answer.status === 0 ? 500 : 300);
    }
    throw new Error(`the write ${query.slice(0, 80)} did not succeed in 200 attempts / 300 s`);
  }
}

// ---- logs ----------------------------------------------------------------------------

function readLines(file) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');
  } catch {
    return [];
  }
}

function logSummary(cluster, id) {
  const lines = [...readLines(cluster.out(id)), ...readLines(cluster.err(id))];
  const roles = lines.filter((line) => /role \w+ → \w+/.test(line));
  const errors = lines.filter((line) => /error/i.test(line));
  return { lines, roles, errors };
}

function shortLine(line) {
  try {
    const entry = JSON.parse(line);
    const { timestamp, level, message, node_id: _node, ...rest } = entry;
    const extra = Object.keys(rest).length === 0 ? '' : ` ${JSON.stringify(rest)}`;
    return `${String(timestamp).slice(11, 23)} ${level}: ${message}${extra}`.slice(0, 300);
  } catch {
    return line.slice(0, 300);
  }
}

// ---- the run -------------------------------------------------------------------------------

async function run(options) {
  const cluster = new Cluster(options);
  const sampler = new Sampler(cluster, path.join(cluster.dir, 'rss.csv'));
  const writer = new Writer(cluster);
  const report = { notes: [], ok: false };
  console.log(`run directory ${cluster.dir}; tree ${options.tree}; ${options.size_mb} MB; ports ${options.base_port + 1}-${options.base_port + 3}`);
  try {
    for (const id of cluster.ids) cluster.start(id);
    sampler.start();
    const master = await pollFor(async () => {
      const statuses = await cluster.statuses();
      if (statuses.some((status) => status === null)) return null;
      const masters = statuses.filter((status) => status.role === 'master');
      return masters.length === 1 && statuses.every((status) => status.master_id === masters[0].id) ? masters[0].id : null;
    }, { timeout_ms: 30_000 });
    if (master === null) throw new Error('no master within 30 s');
    writer.preferred = master;
    const lagging = cluster.ids.find((id) => id !== master);
    await cluster.kill(lagging, 'SIGKILL');
    report.first_master = master;
    report.lagging = lagging;
    console.log(`master ${master}; killed slave ${lagging}`);

    sampler.setPhase('write');
    const write_started = Date.now();
    await writer.write('CREATE TABLE IF NOT EXISTS big (n INTEGER PRIMARY KEY, b BLOB)');
    const rows = options.size_mb;
    for (let first = 0; first < rows; first += ROWS_PER_STATEMENT) {
      const last = Math.min(rows, first + ROWS_PER_STATEMENT) - 1;
      await writer.write(`INSERT OR REPLACE INTO big WITH RECURSIVE c(x) AS (SELECT ${first} UNION ALL SELECT x + 1 FROM c WHERE x < ${last}) SELECT x, zeroblob(${ROW_BYTES}) FROM c`);
      if ((first / ROWS_PER_STATEMENT) % 10 === 9) console.log(`  ${last + 1} rows written, ${((Date.now() - write_started) / 1000).toFixed(0)} s, ${writer.retries} retries`);
    }
    report.write_s = (Date.now() - write_started) / 1000;

    // Enough entries after the rows for every live node to compact them into a snapshot.
    sampler.setPhase('compact');
    const live = cluster.ids.filter((id) => id !== lagging);
    // The log index of the last row (elections add entries of their own, so it is read, not counted).
    const rows_index = Math.max(...(await Promise.all(live.map((id) => cluster.status(id)))).map((status) => status?.commit_index ?? 0));
    report.rows_index = rows_index;
    let compacted = null;
    for (let round = 0; round < 10 && compacted === null; round += 1) {
      for (let n = 0; n < 12; n += 1) await writer.write(`INSERT OR REPLACE INTO big (n) VALUES (${rows + n})`);
      compacted = await pollFor(async () => {
        const statuses = await Promise.all(live.map((id) => cluster.status(id)));
        return statuses.every((status) => status !== null && status.snapshot_index >= rows_index) ? statuses : null;
      }, { timeout_ms: 30_000, interval_ms: 500 });
    }
    if (compacted === null) throw new Error('the live nodes did not compact past the rows');
    report.snapshot_index = Math.min(...compacted.map((status) => status.snapshot_index));
    const snapshot_file = path.join(cluster.dir, 'data', `node-${compacted.find((s) => s.role === 'master')?.id ?? live[0]}`);
    report.snapshot_files = fs.readdirSync(snapshot_file).map((name) => `${name} ${(fs.statSync(path.join(snapshot_file, name)).size / 1e6).toFixed(1)} MB`);

    // Quiet for a few seconds: the RSS every node holds before the catch-up.
    sampler.setPhase('before');
    await sleep(5000);
    const before_statuses = await cluster.statuses();
    report.master_before = before_statuses.find((status) => status?.role === 'master')?.id ?? null;

    sampler.setPhase('catch-up', { reset_hwm: true });
    fs.rmSync(path.join(cluster.dir, 'data', `node-${lagging}`), { recursive: true, force: true });
    const catch_up_started = Date.now();
    cluster.start(lagging);
    let last_seen = null;
    const converged = await pollFor(async () => {
      const statuses = await cluster.statuses();
      last_seen = statuses;
      if (statuses.some((status) => status === null)) return null;
      const first = statuses[0];
      const same = statuses.every((status) => status.applied_index === first.applied_index && status.state_hash === first.state_hash);
      return same && first.applied_index === first.commit_index && first.applied_index > 0 ? statuses : null;
    }, { timeout_ms: options.deadline_s * 1000, interval_ms: 500 });
    report.catch_up_s = (Date.now() - catch_up_started) / 1000;
    report.converged = converged !== null;
    report.last_statuses = last_seen;
    if (converged === null) report.notes.push(`no convergence within ${options.deadline_s} s`);
    report.master_after = (converged ?? last_seen ?? []).find((status) => status?.role === 'master')?.id ?? null;

    sampler.setPhase('after');
    await sleep(options.settle_s * 1000);

    if (options.verify && converged !== null) {
      sampler.setPhase('verify', { reset_hwm: true });
      const started = Date.now();
      const answer = await request(`${cluster.url(lagging)}/query`, { method: 'POST', body: { query: 'SELECT count(*), sum(length(b)) FROM big' }, timeout_ms: 300_000 });
      report.verify = { status: answer.status, rows: answer.body?.rows ?? answer.body?.error ?? answer.error, s: (Date.now() - started) / 1000 };
      await sleep(2000);
    }
    report.ok = converged !== null;
  } catch (error) {
    report.notes.push(`run stopped: ${error.message}`);
  } finally {
    sampler.setPhase('end');
    sampler.stop();
    await cluster.destroy();
  }
  printReport(options, cluster, sampler, writer, report);
  const crashed = cluster.exits.filter((exit) => !exit.expected);
  if (!options.keep && report.ok && crashed.length === 0) fs.rmSync(cluster.dir, { recursive: true, force: true });
  else console.log(`kept ${cluster.dir}`);
  return report.ok && crashed.length === 0;
}

/** --timeline: each process's largest RSS per 2 s of the catch-up, in MB. */
function printTimeline(sampler, procs) {
  const start = sampler.phase_starts.find((start) => start.phase === 'catch-up')?.at_ms;
  if (start === undefined) return;
  const shown = procs.filter((proc) => proc.phases.has('catch-up'));
  const buckets = new Map();
  for (const sample of sampler.timeline) {
    const bucket = Math.floor((sample.ms - start) / 2000);
    const row = buckets.get(bucket) ?? new Map();
    row.set(sample.pid, Math.max(row.get(sample.pid) ?? 0, sample.rss));
    buckets.set(bucket, row);
  }
  console.log('');
  console.log(`catch-up timeline, largest RSS per 2 s in MB: ${shown.map((proc) => `node ${proc.id}${proc.kind === 'node' ? '' : ' exec'}`).join(' | ')}`);
  for (const [bucket, row] of [...buckets].sort((a, b) => a[0] - b[0])) {
    console.log(`  +${String(bucket * 2).padStart(3)}s ${shown.map((proc) => mb(row.get(proc.pid)).padStart(6)).join(' ')}`);
  }
}

function printReport(options, cluster, sampler, writer, report) {
  const phaseOf = (proc, phase) => proc.phases.get(phase);
  const at = (ms) => (ms === undefined ? '' : `+${((ms - sampler.phaseAt(ms).at_ms) / 1000).toFixed(1)}s`);
  const stamp = (line) => {
    try {
      return Date.parse(JSON.parse(line).timestamp);
    } catch {
      return NaN;
    }
  };
  console.log('');
  console.log(`${options.size_mb} MB of rows; failover_timeout_ms ${options.failover_ms}; first master ${report.first_master}, slave caught up: node ${report.lagging}; master before ${report.master_before}, after ${report.master_after}`);
  console.log(`writes: ${writer.statements} statements in ${report.write_s?.toFixed(0) ?? '-'} s, ${writer.retries} retried; rows up to index ${report.rows_index ?? '-'}, snapshot_index ${report.snapshot_index ?? '-'}; files: ${(report.snapshot_files ?? []).join(', ')}`);
  console.log(`catch-up: ${report.converged ? 'converged' : 'NOT converged'} after ${report.catch_up_s?.toFixed(1) ?? '-'} s${report.verify ? `; verify SELECT on node ${report.lagging}: ${report.verify.status} ${JSON.stringify(report.verify.rows).slice(0, 120)} in ${report.verify.s.toFixed(1)} s` : ''}`);
  console.log('');
  console.log('RSS in MB (sampled every 200 ms; "at" counts from the start of the catch-up; HWM = VmHWM, reset when the catch-up and the verify start)');
  const header = ['process', 'pid', 'write peak', 'before', 'catch-up peak (at)', 'catch-up HWM', 'after', 'verify HWM'];
  const rows = [];
  const rank = (proc) => (proc.kind === 'node' ? 0 : 1);
  const procs = [...sampler.procs.values()].sort((a, b) => a.id - b.id || rank(a) - rank(b) || a.first_ms - b.first_ms);
  for (const proc of procs) {
    const write = phaseOf(proc, 'write');
    const before = phaseOf(proc, 'before');
    const catchUp = phaseOf(proc, 'catch-up');
    const after = phaseOf(proc, 'after');
    const verify = phaseOf(proc, 'verify');
    rows.push([
      `node ${proc.id}${proc.kind === 'node' ? '' : ' executor'}${proc.id === report.lagging && proc.kind === 'node' ? (proc.phases.has('catch-up') ? ' (restarted)' : ' (killed)') : ''}`,
      String(proc.pid),
      write === undefined ? '-' : mb(write.max),
      before === undefined ? '-' : mb(before.last),
      catchUp === undefined ? '-' : `${mb(catchUp.max)} (${at(catchUp.max_at_ms)})`,
      catchUp === undefined ? '-' : mb(catchUp.hwm),
      after === undefined ? '-' : mb(after.last),
      verify === undefined ? '-' : mb(verify.hwm),
    ]);
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  if (options.timeline) printTimeline(sampler, procs);
  if (sampler.hwm_reset_error) console.log(`(VmHWM could not be reset: ${sampler.hwm_reset_error})`);
  console.log('');
  const crashed = cluster.exits.filter((exit) => !exit.expected);
  console.log(`crashes: ${crashed.length === 0 ? 'none' : crashed.map((exit) => `node ${exit.id} pid ${exit.pid} code ${exit.code} signal ${exit.signal} at ${at(exit.at_ms)}`).join('; ')}`);
  const byPhase = (lines) => {
    const counts = new Map();
    for (const line of lines) {
      const phase = Number.isNaN(stamp(line)) ? '?' : sampler.phaseAt(stamp(line)).phase;
      counts.set(phase, (counts.get(phase) ?? 0) + 1);
    }
    return [...counts].map(([phase, count]) => `${phase} ${count}`).join(', ') || 'none';
  };
  for (const id of cluster.ids) {
    const { lines, roles, errors } = logSummary(cluster, id);
    console.log(`node ${id}: role changes by phase: ${byPhase(roles)}; lines with "error": ${errors.length}`);
    for (const role of roles.filter((line) => sampler.phaseAt(stamp(line)).phase !== 'start').slice(0, 10)) console.log(`    ${at(stamp(role))} ${shortLine(role)}`);
    for (const error of errors.slice(0, 6)) console.log(`  ! ${at(stamp(error))} ${shortLine(error)}`);
    const installed = lines.filter((line) => line.includes('installed snapshot from the master'));
    for (const line of installed.slice(0, 3)) console.log(`    ${sampler.phaseAt(stamp(line)).phase} ${at(stamp(line))} ${shortLine(line)}`);
  }
  if (writer.failures.length > 0) {
    console.log(`write retries (first ${writer.failures.length}):`);
    for (const failure of writer.failures.slice(0, 8)) console.log(`    ${failure.slice(0, 250)}`);
  }
  if (!report.converged && report.last_statuses) {
    for (const status of report.last_statuses) console.log(`  last status: ${status === null ? 'no answer' : JSON.stringify({ id: status.id, role: status.role, term: status.term, commit: status.commit_index, applied: status.applied_index, snapshot: status.snapshot_index, hash: status.state_hash.slice(0, 12) })}`);
  }
  for (const note of report.notes) console.log(`note: ${note}`);
}

/** Whatever ends this script ends the nodes it started too, by their PIDs. */
const started_pids = new Set();
process.on('exit', () => {
  for (const pid of started_pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(130));

let options;
try {
  options = parseArgs(process.argv.slice(2));
} catch (error) {
  console.error(`${error.message}\n${USAGE}`);
  process.exit(2);
}
run(options).then(
  (ok) => process.exit(ok ? 0 : 1),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
