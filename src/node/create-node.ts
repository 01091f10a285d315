/**
 * A node for a node process: durable storage in its data directory (or none,
 * `--in-memory`), HTTP to its peers, the system clock, and seeds from the
 * operating system's random source. A storage failure ends the process,
 * which recovers from its files on restart.
 */
import { constants as bufferConstants } from 'node:buffer';
import { randomInt } from 'node:crypto';
import { ChannelTransport } from '../replication/channel-transport';
import { peerInspector } from '../replication/peer-inspector';
import { openStorage } from '../replication/storage';
import type { TlsMaterial } from '../http/tls-material';
import type { ClusterConfig } from '../../utils/config';
import type { LogPayload } from './applied-state';
import { SYSTEM_CLOCK } from './clock';
import { DdbNode, REPLICA_LIMITS, type NodeOptions } from './node';
import { SqlExecutorPool } from './sql-executor/executor-pool';
import { APPEND_BYTES_MAX } from './payload-bytes';

export interface ProcessNodeOptions extends NodeOptions {
  /** Where term, vote, log and snapshots live; null keeps nothing on disk (`--in-memory`). */
  data_dir: string | null;
  /** The cluster key (utils/cluster-secret.ts): every peer connection proves it, and tags every frame with keys derived from it. */
  cluster_secret: Buffer;
  /** With https:// URLs: this node's certificate and key, and the CA peers' certificates must come from. */
  tls?: TlsMaterial;
}

export interface ProcessNode {
  node: DdbNode;
  transport: ChannelTransport;
}

/**
 * The largest peer frame a node takes: an append within its byte budget plus
 * one entry near the body limit, each character of them up to six bytes of
 * JSON (snapshots travel in parts of their own size: snapshot-stream.ts).
 */
export function peerFrameBytesMax(config: Pick<ClusterConfig, 'body_limit_bytes'>): number {
  // Never over the longest string V8 makes: a frame of messages is decoded as one string.
  return Math.min(bufferConstants.MAX_STRING_LENGTH, 6 * (APPEND_BYTES_MAX + config.body_limit_bytes) + 1024 * 1024);
}

/**
 * A SQL write's trial budget: every node applies the write on its main
 * thread, where anything near the fail-over timeout would make the slaves
 * think the master died (and the master's heartbeats stop meanwhile).
 */
export function writeTrialBudgetMs(config: Pick<ClusterConfig, 'statement_timeout_ms' | 'failover_timeout_ms'>): number {
  return Math.max(1, Math.min(config.statement_timeout_ms, Math.floor(config.failover_timeout_ms / 2)));
}

export function createNode(options: ProcessNodeOptions): ProcessNode {
  const { config, self, logger } = options;
  const peerUrls = new Map(config.nodes.filter((node) => node.id !== self.id).map((node) => [node.id, node.url.replace(/\/$/, '')]));
  const host = new URL(self.url).hostname;
  // Peer connections leave from the node's own address, so chaos tests can cut them by source.
  const local_address = /^[0-9.]+$/.test(host) ? host : undefined;
  const transport = new ChannelTransport({
    self_id: self.id,
    peer_urls: peerUrls,
    secret: options.cluster_secret,
    logger,
    inspect: peerInspector({
      self_id: self.id,
      member_ids: config.nodes.map((node) => node.id),
      body_limit_bytes: config.body_limit_bytes,
      entries_per_message_max: REPLICA_LIMITS.entries_per_append_max,
    }),
    ...(local_address === undefined ? {} : { local_address }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    frame_bytes_max: peerFrameBytesMax(config),
    keepalive_ms: Math.max(50, Math.min(1000, Math.floor(config.failover_timeout_ms / 2))),
    redial_backoff_ms_max: config.heartbeat_ms,
  });
  const node = new DdbNode(options, {
    clock: SYSTEM_CLOCK,
    storage: openStorage<LogPayload>(options.data_dir),
    transport,
    randomSeed: () => randomInt(0, 2 ** 32 - 1),
    sqlExecutor: (state) =>
      new SqlExecutorPool({
        state,
        logger,
        query_timeout_ms: config.statement_timeout_ms,
        trial_timeout_ms: writeTrialBudgetMs(config),
      }),
    fatal: (error) => {
      process.nextTick(() => {
        throw error;
      });
    },
  });
  transport.attach(node);
  return { node, transport };
}
