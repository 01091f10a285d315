/**
 * A node for a node process: durable storage in its data directory (or none,
 * `--in-memory`), HTTP to its peers, the system clock, and seeds from the
 * operating system's random source. A storage failure ends the process,
 * which recovers from its files on restart.
 */
import { randomInt } from 'node:crypto';
import { openStorage } from '../replication/storage';
import { HttpTransport } from '../replication/transport';
import type { TlsMaterial } from '../http/tls-material';
import type { LogPayload } from './applied-state';
import { SYSTEM_CLOCK } from './clock';
import { DdbNode, type NodeOptions } from './node';
import type { NodeMessage } from './peer-transport';

export interface ProcessNodeOptions extends NodeOptions {
  /** Where term, vote, log and snapshots live; null keeps nothing on disk (`--in-memory`). */
  data_dir: string | null;
  /** The cluster key (utils/cluster-secret.ts), for the peer channel's challenge-response and frame HMACs. */
  cluster_secret?: Buffer;
  /** With https:// URLs: this node's certificate and key and the CA, for the peer channel's outbound connections. */
  tls?: TlsMaterial;
}

export interface ProcessNode {
  node: DdbNode;
  transport: HttpTransport<NodeMessage>;
}

export function createNode(options: ProcessNodeOptions): ProcessNode {
  const { config, self, logger } = options;
  const peerUrls = new Map(config.nodes.filter((node) => node.id !== self.id).map((node) => [node.id, node.url.replace(/\/$/, '')]));
  const host = new URL(self.url).hostname;
  // Peer connections leave from the node's own address, so chaos tests can cut them by source.
  const local_address = /^[0-9.]+$/.test(host) ? host : undefined;
  let node: DdbNode | null = null;
  const transport = new HttpTransport<NodeMessage>(peerUrls, (messages) => node?.receive(messages), logger, local_address);
  node = new DdbNode(options, {
    clock: SYSTEM_CLOCK,
    storage: openStorage<LogPayload>(options.data_dir),
    transport,
    randomSeed: () => randomInt(0, 2 ** 32 - 1),
    fatal: (error) => {
      process.nextTick(() => {
        throw error;
      });
    },
  });
  return { node, transport };
}
