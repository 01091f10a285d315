/**
 * CLI entry. `main.js <port>` runs the one node of config.json with that port;
 * `main.js` alone runs every node of the config as a local cluster.
 * Exit codes: 0 after a clean shutdown, 1 on a runtime failure, 2 on bad usage or config.
 */
import path from 'node:path';
import { createApp } from './http/app';
import { parseCliArgs, USAGE, UsageError, type CliArgs } from './cli/cli-args';
import { runLocalCluster } from './cli/local-cluster';
import { checkStart } from './cli/start-checks';
import { createNode } from './node/create-node';
import { createServer, listen } from './http/server';
import { ConfigError, findNodeByPort, loadConfig, portOf } from '../utils/config';
import { createLogger } from '../utils/logger';
import { Authenticator } from './auth/authenticator';
import type { Caller } from '../handlers/service';
import type { Command } from '../database/commands';
import { describePortInUse } from '../utils/port-holder';

/** A failure to start that one line explains (a port in use): exit 1 without a stack trace. */
class StartupError extends Error {
  override name = 'StartupError';
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

async function listenOrExplain(server: ReturnType<typeof createServer>, host: string, port: number): Promise<void> {
  try {
    await listen(server, port, host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new StartupError(describePortInUse(host, port));
    throw error;
  }
}

async function runNode(args: CliArgs & { port: number }): Promise<void> {
  const config = loadConfig(args.config_file);
  const self = findNodeByPort(config, args.port);
  const { cluster_secret, tls, notice } = checkStart({ config, nodes: [self], config_file: args.config_file });
  const logger = createLogger({ level: args.log_level, node_id: self.id });
  const data_dir = args.in_memory ? null : path.join(args.data_dir ?? config.data_dir, `node-${self.id}`);
  const access = config.users_file === undefined ? undefined : new Authenticator({ users_file: config.users_file, logger });
  // The master's check of a write a slave forwarded: the user's right, by this node's own users file.
  const authorize = access === undefined ? undefined : (caller: Caller, command: Command) => access.authorizeForwarded(caller.user, command, node.engine.defaultDatabase());
  const process_node = createNode({ config, self, data_dir, logger, cluster_secret, tls, authorize });
  const { node } = process_node;
  const server = createServer(process_node, createApp(node, { logger, body_limit_bytes: config.body_limit_bytes, access }), logger, tls);
  await listenOrExplain(server, new URL(self.url).hostname, portOf(self));
  node.start();
  logger.info(`node ${self.id} serving ${self.url}`, { data_dir: data_dir ?? '(in memory: nothing survives a restart)' });
  // A local cluster's supervisor (an IPC channel) says it once for all its nodes.
  if (notice !== null && process.send === undefined) logger.log(notice.level, notice.text);
  let shutting_down = false;
  const shutdown = (why: string) => {
    // Ctrl-C reaches a local cluster's nodes twice: from the terminal and from the supervisor.
    if (shutting_down) return;
    shutting_down = true;
    logger.info(`${why}: shutting down`);
    server.close();
    server.closeAllConnections();
    node.stop();
    process.exit(0);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, () => shutdown(signal));
  // Started by a local cluster's supervisor (an IPC channel): tell it the node
  // serves, and end with it, even when it was killed without a chance to stop us.
  if (process.send !== undefined) {
    process.send({ type: 'serving' });
    process.once('disconnect', () => shutdown('the supervisor is gone'));
  }
}

async function main(): Promise<void> {
  let args: CliArgs;
  try {
    args = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  try {
    if (args.port === null) process.exit(await runLocalCluster(args));
    await runNode({ ...args, port: args.port });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`ddb: ${error.message}\n`);
      process.exit(2);
    }
    if (error instanceof StartupError) {
      process.stderr.write(`ddb: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`ddb: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  }
}

void main();
