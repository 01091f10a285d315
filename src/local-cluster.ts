/**
 * `npm start` without a port: every node of the config as a child process in
 * this terminal, each output line prefixed with its node id. Ctrl-C stops all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import type { CliArgs } from './cli-args';
import { loadConfig, portOf } from '../utils/config';
import { NODE_RUNTIME_FLAGS } from './runtime-flags';

function forwardLines(stream: NodeJS.ReadableStream, prefix: string, out: NodeJS.WritableStream): void {
  readline.createInterface({ input: stream }).on('line', (line) => out.write(`${prefix} ${line}\n`));
}

export async function runLocalCluster(args: CliArgs): Promise<void> {
  const config = loadConfig(args.config_file);
  const children: ChildProcess[] = [];
  for (const node of config.nodes) {
    const childArgs = [...NODE_RUNTIME_FLAGS, process.argv[1], String(portOf(node)), '--config', args.config_file, '--log-level', args.log_level];
    if (args.data_dir !== null) childArgs.push('--data-dir', args.data_dir);
    if (args.in_memory) childArgs.push('--in-memory');
    const child = spawn(process.execPath, childArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DDB_LOCAL_CLUSTER: '1' } });
    forwardLines(child.stdout as NodeJS.ReadableStream, `[node ${node.id}]`, process.stdout);
    forwardLines(child.stderr as NodeJS.ReadableStream, `[node ${node.id}]`, process.stderr);
    child.on('exit', (code, signal) => process.stdout.write(`[node ${node.id}] exited (${signal ?? code})\n`));
    children.push(child);
  }
  const stopAll = () => {
    for (const child of children) child.kill('SIGTERM');
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  await Promise.all(children.map((child) => new Promise((resolve) => child.on('exit', resolve))));
}
