/**
 * CLI entry. `main.js <port>` runs the one node of config.json with that port;
 * `main.js` alone runs every node of the config as a local cluster.
 * Exit codes: 0 after a clean shutdown, 1 on a runtime failure, 2 on bad usage or config.
 */
import path from 'node:path';
import { createApp } from './app';
import { parseCliArgs, USAGE, UsageError, type CliArgs } from './cli-args';
import { runLocalCluster } from './local-cluster';
import { DdbNode } from './node';
import { createServer, listen } from './server';
import { ConfigError, findNodeByPort, loadConfig, portOf } from '../utils/config';
import { createLogger } from '../utils/logger';

async function runNode(args: CliArgs & { port: number }): Promise<void> {
  const config = loadConfig(args.config_file);
  const self = findNodeByPort(config, args.port);
  const logger = createLogger({ level: args.log_level, node_id: self.id });
  const data_dir = args.in_memory ? null : path.join(args.data_dir ?? config.data_dir, `node-${self.id}`);
  const node = new DdbNode({ config, self, data_dir, logger });
  const server = createServer(node, createApp(node, { logger, body_limit_bytes: config.body_limit_bytes }), logger);
  await listen(server, portOf(self), new URL(self.url).hostname);
  node.start();
  logger.info(`node ${self.id} serving ${self.url}`, { data_dir: data_dir ?? '(in memory: nothing survives a restart)' });
  const shutdown = (signal: string) => {
    logger.info(`${signal}: shutting down`);
    server.close();
    server.closeAllConnections();
    node.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
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
    if (args.port === null) await runLocalCluster(args);
    else await runNode({ ...args, port: args.port });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`ddb: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`ddb: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  }
}

void main();
