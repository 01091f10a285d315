/**
 * Real ddb processes on loopback ports, for cluster and chaos tests. Each test
 * cluster has its own free ports and temp dir; every process it starts is
 * ended by its PID in `destroy()`. Node logs go to files in the temp dir and
 * are printed when a test fails to start a node. The config lives in the temp
 * dir, so the nodes make their cluster key there. With `tls`, the cluster
 * makes a CA and a certificate per node (support/certs.ts), its URLs are
 * https:// and each node gets a config of its own naming its certificate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import axios, { type AxiosInstance } from 'axios';
import http from 'node:http';
import https from 'node:https';
import { makeClusterCertificates, type NodeTlsFiles } from './certs';
import { pollUntil } from './poll';
import { freePort } from './ports';

export { freePort };
import { NODE_RUNTIME_FLAGS } from '../../src/cli/runtime-flags';

/** The repository root, whether this file runs from test/ (jest) or dist/test/ (scripts). */
const ROOT = ((up) => (path.basename(up) === 'dist' ? path.dirname(up) : up))(path.resolve(__dirname, '..', '..'));
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

export interface ClusterOptions {
  size: number;
  heartbeat_ms?: number;
  failover_timeout_ms?: number;
  election_stagger_ms?: number;
  log_entries_max?: number;
  write_timeout_ms?: number;
  statement_timeout_ms?: number;
  /** Loopback host per node id; defaults to 127.0.0.1 for every node. */
  host_of?: (id: number) => string;
  in_memory?: boolean;
  /** https:// URLs; the ids in other_ca_ids get a certificate of another CA (and trust only that one). */
  tls?: { other_ca_ids?: number[] };
  /**
   * A users file per node (its name relative to the cluster's dir; the test writes
   * it before starting the node), and the credentials the cluster's own /status
   * calls use. Each node then gets a config of its own naming its file.
   */
  users?: { file_of: (id: number) => string; auth: { username: string; password: string } };
  /** Keys of node `id`'s own config over the shared ones; with it, each node gets a config file of its own. */
  config_of?: (id: number) => Record<string, unknown>;
}

export interface StatusBody {
  id: number;
  role: string;
  term: number;
  master_id: number | null;
  commit_index: number;
  applied_index: number;
  log_entries: number;
  snapshot_index: number;
  state_hash: string;
  content_hash: string;
  content_check: { checked_index: number; diverged_index: number | null; divergences: number; repairs: number; repairs_refused: number };
  nodes: { id: number; alive: boolean; match_index: number }[];
}

/** A node ended before it answered: waiting longer is no use. */
class StartFailed extends Error {}

export class TestCluster {
  readonly dir: string;
  readonly urls = new Map<number, string>();
  readonly processes = new Map<number, ChildProcess>();
  readonly client: AxiosInstance;
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent: https.Agent;
  /** Run by destroy(): clients a test started, ended even when its assertions failed. */
  private readonly stoppers: (() => Promise<void>)[] = [];
  private readonly configFiles = new Map<number, string>();
  /** With tls: the CA the nodes' certificates are checked against (curl --cacert). */
  readonly ca_file: string | null;
  /** With tls: each node's certificate, key and CA files. */
  readonly tlsFilesOf: ((id: number) => NodeTlsFiles) | null;

  private constructor(readonly options: ClusterOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-cluster-'));
    const certificates = options.tls === undefined ? null : makeClusterCertificates(this.dir, { ids: Array.from({ length: options.size }, (_, index) => index + 1), other_ca_ids: options.tls.other_ca_ids ?? [] });
    this.ca_file = certificates?.ca.ca_file ?? null;
    this.tlsFilesOf = certificates?.files_of ?? null;
    // The test's client trusts the other CA too, to watch the nodes that hold its certificates.
    const trusted = [certificates?.ca, certificates?.other_ca].filter((ca) => ca !== undefined && ca !== null).map((ca) => fs.readFileSync(ca.ca_file));
    this.httpsAgent = new https.Agent({ keepAlive: true, ...(trusted.length === 0 ? {} : { ca: trusted }) });
    this.client = axios.create({ httpAgent: this.agent, httpsAgent: this.httpsAgent, validateStatus: () => true, timeout: 10_000, maxRedirects: 0 });
  }

  static async create(options: ClusterOptions): Promise<TestCluster> {
    const cluster = new TestCluster(options);
    const nodes = [];
    for (let id = 1; id <= options.size; id += 1) {
      const host = options.host_of?.(id) ?? '127.0.0.1';
      const url = `${options.tls === undefined ? 'http' : 'https'}://${host}:${await freePort(host)}`;
      cluster.urls.set(id, url);
      nodes.push({ id, url });
    }
    const config = {
      nodes,
      heartbeat_ms: options.heartbeat_ms ?? 50,
      failover_timeout_ms: options.failover_timeout_ms ?? 500,
      // The config default: a node that boots more than a stagger after a higher-id one loses the cold-start election,
      // and on a loaded 2-core machine three nodes starting at once can be 150 ms apart.
      election_stagger_ms: options.election_stagger_ms ?? 300,
      data_dir: path.join(cluster.dir, 'data'),
      ...(options.log_entries_max === undefined ? {} : { log_entries_max: options.log_entries_max }),
      ...(options.write_timeout_ms === undefined ? {} : { write_timeout_ms: options.write_timeout_ms }),
      ...(options.statement_timeout_ms === undefined ? {} : { statement_timeout_ms: options.statement_timeout_ms }),
    };
    for (const id of cluster.ids()) {
      // Without TLS or users every node reads one config.json; with them, each its own, naming its certificate and users file.
      const tls = cluster.tlsFilesOf?.(id);
      const users_file = options.users?.file_of(id);
      const own = tls !== undefined || users_file !== undefined || options.config_of !== undefined;
      const file = path.join(cluster.dir, own ? `config-${id}.json` : 'config.json');
      const node_config = { ...config, ...(tls === undefined ? {} : { tls }), ...(users_file === undefined ? {} : { users_file }), ...options.config_of?.(id) };
      fs.writeFileSync(file, JSON.stringify(node_config, null, 2));
      cluster.configFiles.set(id, file);
    }
    return cluster;
  }

  configFile(id: number): string {
    return this.configFiles.get(id) as string;
  }

  ids(): number[] {
    return [...this.urls.keys()];
  }

  url(id: number): string {
    return this.urls.get(id) as string;
  }

  logFile(id: number): string {
    return path.join(this.dir, `node-${id}.log`);
  }

  start(id: number): void {
    if (this.processes.has(id)) throw new Error(`node ${id} is already running`);
    const port = new URL(this.url(id)).port;
    // DDB_NODE_FLAGS: more node flags for every ddb process, after (so overriding) the runtime's
    // own, e.g. "--cpu-prof" to profile a bench run.
    const flags = process.env.DDB_NODE_FLAGS?.split(' ').filter((flag) => flag !== '') ?? [];
    const args = [...NODE_RUNTIME_FLAGS, ...flags, MAIN, port, '--config', this.configFile(id), '--log-level', process.env.DDB_TEST_LOG_LEVEL ?? 'info'];
    if (this.options.in_memory) args.push('--in-memory');
    const log = fs.openSync(this.logFile(id), 'a');
    const child = spawn(process.execPath, args, { stdio: ['ignore', log, log], cwd: ROOT });
    fs.closeSync(log);
    this.processes.set(id, child);
    child.once('exit', () => {
      if (this.processes.get(id) === child) this.processes.delete(id);
    });
  }

  /**
   * Starts every node at once (a node that waited for the one before would
   * start seconds later on a loaded machine, and then the cold-start order,
   * which counts on nodes starting together, no longer holds), and waits
   * until each answers.
   */
  async startAll(): Promise<void> {
    for (const id of this.ids()) this.start(id);
    for (const id of this.ids()) {
      await pollUntil(
        () => {
          // A node that exited will never answer: say why now, not after the deadline.
          if (!this.processes.has(id)) throw new StartFailed(`node ${id} exited while starting; its log ends:\n${this.logTail(id)}`);
          return this.status(id);
        },
        { timeout_ms: 30_000, interval_ms: 10, what: `node ${id} to answer`, stop_on: (error) => error instanceof StartFailed },
      );
    }
  }

  /** The last lines of a node's log, for failure messages. */
  logTail(id: number, lines = 20): string {
    try {
      return fs.readFileSync(this.logFile(id), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Sends a signal to the node's process by PID; SIGKILL also waits for it to be gone. */
  async signal(id: number, signal: NodeJS.Signals): Promise<void> {
    const child = this.processes.get(id);
    if (child === undefined || child.pid === undefined) throw new Error(`node ${id} is not running`);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid, signal);
      await exited;
      this.processes.delete(id);
      return;
    }
    process.kill(child.pid, signal);
  }

  async status(id: number): Promise<StatusBody | null> {
    try {
      const auth = this.options.users?.auth;
      const response = await this.client.get(`${this.url(id)}/status`, { timeout: 1000, ...(auth === undefined ? {} : { auth }) });
      return response.status === 200 ? (response.data as StatusBody) : null;
    } catch {
      return null;
    }
  }

  /** Waits until every listed node answers and they agree on one master; returns its id. */
  async waitForMaster(ids: number[] = this.ids(), timeout_ms = 15_000): Promise<number> {
    return pollUntil(
      async () => {
        const statuses = await Promise.all(ids.map((id) => this.status(id)));
        if (statuses.some((status) => status === null)) return null;
        const masters = statuses.filter((status) => status?.role === 'master');
        if (masters.length !== 1) return null;
        const master = masters[0] as StatusBody;
        return statuses.every((status) => status?.master_id === master.id && status.term === master.term) ? master.id : null;
      },
      { timeout_ms, what: `one master agreed on by nodes ${ids.join(',')}` },
    );
  }

  /** Waits until every listed node has applied the same index with the same state and content hashes. */
  async waitForConvergence(ids: number[], timeout_ms = 20_000): Promise<StatusBody[]> {
    return pollUntil(
      async () => {
        const statuses = await Promise.all(ids.map((id) => this.status(id)));
        if (statuses.some((status) => status === null)) return null;
        const first = statuses[0] as StatusBody;
        const same = statuses.every(
          (status) => status?.applied_index === first.applied_index && status.state_hash === first.state_hash && status.content_hash === first.content_hash,
        );
        return same && first.applied_index === first.commit_index ? (statuses as StatusBody[]) : null;
      },
      { timeout_ms, what: `nodes ${ids.join(',')} to converge` },
    );
  }

  atDestroy(stop: () => Promise<void>): void {
    this.stoppers.push(stop);
  }

  async destroy(): Promise<void> {
    for (const [id, child] of this.processes) {
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGCONT');
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      this.processes.delete(id);
    }
    // After the kills, so in-flight requests fail at once instead of waiting for their timeouts.
    await Promise.all(this.stoppers.splice(0).map((stop) => stop()));
    this.agent.destroy();
    this.httpsAgent.destroy();
    if (process.env.DDB_KEEP_TEST_DIRS !== '1') fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
