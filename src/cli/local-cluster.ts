/**
 * `npm start` without a port: every node of the config as a child process in
 * this terminal, their output in one stream (local-cluster-output.ts).
 *
 * The supervisor owns its nodes' lives:
 *  - SIGINT (Ctrl-C), SIGTERM and SIGHUP end every node, then the supervisor
 *    (exit 0); nodes that do not end within STOP_GRACE_MS are killed.
 *  - Each node has an IPC channel to it and ends when that channel closes, so
 *    even a SIGKILL of the supervisor leaves no node behind; under `npm
 *    start` the supervisor ends when npm does.
 *  - A node that fails to start (a port in use, a bad data directory) stops
 *    the cluster, and the supervisor exits 1. A node that ends later (say it
 *    was killed to watch a fail-over) is reported; the others go on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { CliArgs } from './cli-args';
import { readyBanner, waitForReadyCluster } from './cluster-ready';
import { forwardNodeOutput } from './node-output';
import { NODE_RUNTIME_FLAGS } from './runtime-flags';
import { checkStart, type StartMaterial } from './start-checks';
import { loadConfig, portOf, type ClusterConfig, type NodeConfig } from '../../utils/config';
import { createLogger, prettyLogsByDefault, type Logger } from '../../utils/logger';

const STOP_GRACE_MS = 5000;
/** How long the nodes may take to serve; a first start of SQLite and the disk is well under it. */
const START_TIMEOUT_MS = 60_000;
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const PARENT_CHECK_MS = 500;

interface Child {
  node: NodeConfig;
  process: ChildProcess;
  serving: boolean;
  exited: Promise<void>;
  exit_code: number | null;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exit code ${code}` : signal;
}

export class LocalCluster {
  private readonly children: Child[] = [];
  private readonly pretty = prettyLogsByDefault();
  private readonly logger: Logger;
  private stopping = false;
  private failed = false;
  private readonly finished: Promise<void>;
  private finish: () => void = () => undefined;

  constructor(
    private readonly args: CliArgs,
    private readonly config: ClusterConfig,
    private readonly material: StartMaterial,
  ) {
    this.logger = createLogger({ level: args.log_level, pretty: this.pretty });
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  /** Runs until every node has ended; resolves with the supervisor's exit code. */
  async run(): Promise<number> {
    for (const signal of STOP_SIGNALS) process.on(signal, () => this.onSignal(signal));
    this.stopWithParent();
    const notice = this.material.notice;
    if (notice !== null) this.logger.log(notice.level, notice.text);
    for (const node of this.config.nodes) this.children.push(this.spawnNode(node));
    void Promise.all(this.children.map((child) => child.exited)).then(() => this.finish());
    void this.announceWhenReady();
    await this.finished;
    if (this.failed) return 1;
    return this.stopping || this.children.every((child) => child.exit_code === 0) ? 0 : 1;
  }

  /**
   * Under `npm start`, npm passes on SIGINT and SIGTERM but not SIGHUP, and a
   * SIGKILL of npm passes on nothing: when npm is gone, so is the cluster.
   * (Only under npm: a supervisor started by hand under nohup must outlive its shell.)
   */
  private stopWithParent(): void {
    if (process.env.npm_lifecycle_event === undefined) return;
    const parent_pid = process.ppid;
    const watch = setInterval(() => {
      if (process.ppid === parent_pid || this.stopping) return;
      this.logger.info('npm is gone: stopping every node');
      this.stop();
    }, PARENT_CHECK_MS);
    watch.unref();
  }

  private spawnNode(node: NodeConfig): Child {
    const args = [...NODE_RUNTIME_FLAGS, process.argv[1] as string, String(portOf(node)), '--config', this.args.config_file, '--log-level', this.args.log_level];
    if (this.args.data_dir !== null) args.push('--data-dir', this.args.data_dir);
    if (this.args.in_memory) args.push('--in-memory');
    const env = { ...process.env, DDB_LOCAL_CLUSTER: '1', DDB_LOG_FORMAT: this.pretty ? 'pretty' : 'json' };
    const spawned = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env });
    const child: Child = { node, process: spawned, serving: false, exit_code: null, exited: Promise.resolve() };
    for (const stream of ['stdout', 'stderr'] as const) {
      const input = spawned[stream] as NodeJS.ReadableStream;
      forwardNodeOutput({ input, output: process[stream], node_id: node.id, pretty: this.pretty, stream });
    }
    spawned.on('message', (message: { type?: string }) => {
      if (message.type === 'serving') child.serving = true;
    });
    child.exited = new Promise((resolve) => {
      spawned.once('exit', (code, signal) => {
        child.exit_code = code;
        this.onExit(child, describeExit(code, signal));
        resolve();
      });
    });
    return child;
  }

  private onExit(child: Child, how: string): void {
    if (this.stopping) {
      this.logger.info(`node ${child.node.id} stopped (${how})`);
      return;
    }
    if (!child.serving) {
      this.failed = true;
      this.logger.error(`node ${child.node.id} failed to start (${how}); stopping the cluster`);
      this.stop();
      return;
    }
    this.logger.warn(`node ${child.node.id} exited (${how}); the other nodes go on`);
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.stopping) {
      // A second Ctrl-C: do not wait for the grace period.
      for (const child of this.running()) child.process.kill('SIGKILL');
      return;
    }
    this.logger.info(`${signal}: stopping every node`);
    this.stop();
  }

  private running(): Child[] {
    return this.children.filter((child) => child.process.exitCode === null && child.process.signalCode === null);
  }

  private stop(): void {
    this.stopping = true;
    for (const child of this.running()) child.process.kill('SIGTERM');
    const force = setTimeout(() => {
      for (const child of this.running()) child.process.kill('SIGKILL');
    }, STOP_GRACE_MS);
    force.unref();
  }

  private async announceWhenReady(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!this.children.every((child) => child.serving)) {
      if (this.stopping) return;
      if (Date.now() > deadline) {
        this.logger.warn(`not every node serves after ${START_TIMEOUT_MS / 1000} s; see their lines above`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const timeout_ms = Math.max(30_000, 10 * this.config.failover_timeout_ms);
    const master_id = await waitForReadyCluster({ nodes: this.config.nodes, timeout_ms, stopped: () => this.stopping, ca: this.material.tls?.ca });
    if (this.stopping) return;
    if (master_id === null) this.logger.warn(`the nodes serve but have not agreed on a ready master after ${timeout_ms / 1000} s; GET /ready on each says why`);
    else this.logger.info(readyBanner(this.config.nodes, master_id, this.config.tls?.ca_file, this.config.users_file !== undefined));
  }
}

/** Checks what every node will check (protected mode, the cluster key, TLS) first, so a problem is said once, with exit code 2. */
export function runLocalCluster(args: CliArgs): Promise<number> {
  const config = loadConfig(args.config_file);
  const material = checkStart({ config, nodes: config.nodes, config_file: args.config_file });
  return new LocalCluster(args, config, material).run();
}
