/**
 * A real ddb node (replica, engine, state machine) in a cluster of one, kept
 * in memory, for supertest: `request(app)` exercises the whole write path
 * (validation → proposal → log → commit → apply) without a socket.
 */
import { randomBytes } from 'node:crypto';
import type { Express } from 'express';
import { createApp } from '../../src/http/app';
import { createNode, type ProcessNode } from '../../src/node/create-node';
import type { DdbNode } from '../../src/node/node';
import { parseConfig } from '../../utils/config';
import { createSilentLogger } from '../../utils/logger';
import { Authenticator } from '../../src/auth/authenticator';
import type { Caller } from '../../handlers/service';
import type { Command } from '../../database/commands';

export interface TestNode {
  node: DdbNode;
  /** The node with its peer transport, for a server in front of it (src/http/server.ts). */
  process_node: ProcessNode;
  app: Express;
  /** Present when started with a users file. */
  access?: Authenticator;
  stop: () => void;
}

export async function startSingleNode(options: { body_limit_bytes?: number; users_file?: string } = {}): Promise<TestNode> {
  const config = parseConfig({
    nodes: [{ id: 1, url: 'http://127.0.0.1:1' }],
    ...(options.body_limit_bytes === undefined ? {} : { body_limit_bytes: options.body_limit_bytes }),
  });
  const logger = createSilentLogger();
  // With a users file, the node checks users as main.ts sets it up: the app's checks and the master's hook.
  const access = options.users_file === undefined ? undefined : new Authenticator({ users_file: options.users_file, logger });
  const authorize = access === undefined ? undefined : (caller: Caller, command: Command) => access.authorizeForwarded(caller.user, command, node.engine.defaultDatabase());
  const process_node = createNode({ config, self: config.nodes[0], data_dir: null, logger, cluster_secret: randomBytes(32), authorize });
  const { node } = process_node;
  node.start();
  const deadline = Date.now() + 5000;
  while (node.status().role !== 'master') {
    if (Date.now() > deadline) throw new Error('single node did not become master');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const app = createApp(node, { logger, body_limit_bytes: config.body_limit_bytes, access });
  return { node, process_node, app, access, stop: () => node.stop() };
}
