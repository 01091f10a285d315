/**
 * config.json: the cluster's nodes and timings, validated with ajv. Unknown keys
 * and wrong types are errors that name the key; defaults are the contract's.
 */
import fs from 'node:fs';
import Ajv, { type ErrorObject } from 'ajv';

export interface NodeConfig {
  id: number;
  url: string;
}

export interface ClusterConfig {
  nodes: NodeConfig[];
  heartbeat_ms: number;
  failover_timeout_ms: number;
  election_stagger_ms: number;
  data_dir: string;
  /** Largest request body accepted, in bytes (413 beyond). */
  body_limit_bytes: number;
  /** How long a write waits for its commit before answering 503 NO_MASTER. */
  write_timeout_ms: number;
  /** Entries kept in memory before the log is compacted into a snapshot. */
  log_entries_max: number;
}

export const CONFIG_DEFAULTS = {
  heartbeat_ms: 100,
  failover_timeout_ms: 1000,
  election_stagger_ms: 300,
  data_dir: 'data',
  body_limit_bytes: 1_048_576,
  write_timeout_ms: 5000,
  log_entries_max: 10_000,
} as const;

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['nodes'],
  properties: {
    nodes: {
      type: 'array',
      minItems: 1,
      maxItems: 15,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'url'],
        properties: {
          id: { type: 'integer', minimum: 1, maximum: 1_000_000 },
          url: { type: 'string', pattern: '^http://[^/\\s]+:[0-9]{1,5}/?$' },
        },
      },
    },
    heartbeat_ms: { type: 'integer', minimum: 5, maximum: 60_000 },
    failover_timeout_ms: { type: 'integer', minimum: 20, maximum: 600_000 },
    election_stagger_ms: { type: 'integer', minimum: 0, maximum: 600_000 },
    data_dir: { type: 'string', minLength: 1 },
    body_limit_bytes: { type: 'integer', minimum: 1024, maximum: 1_073_741_824 },
    write_timeout_ms: { type: 'integer', minimum: 10, maximum: 600_000 },
    log_entries_max: { type: 'integer', minimum: 10, maximum: 10_000_000 },
  },
} as const;

const ajv = new Ajv({ allErrors: true });
const validateConfig = ajv.compile(configSchema);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** "/nodes/1/url must match ..." or "unknown key 'heartbeat'" — a message that names the key. */
export function describeAjvError(error: ErrorObject, root: string): string {
  const where = `${root}${error.instancePath}`;
  if (error.keyword === 'additionalProperties') {
    return `unknown key '${String(error.params.additionalProperty)}' at ${where || '/'}`;
  }
  if (error.keyword === 'required') {
    return `missing key '${String(error.params.missingProperty)}' at ${where || '/'}`;
  }
  return `${where || '/'} ${error.message ?? 'is invalid'}`;
}

/** Validates a parsed config and fills in the defaults. Throws ConfigError naming what is wrong. */
export function parseConfig(raw: unknown, source = 'config'): ClusterConfig {
  if (!validateConfig(raw)) {
    const problems = (validateConfig.errors ?? []).map((error) => describeAjvError(error, ''));
    throw new ConfigError(`${source}: ${problems.join('; ')}`);
  }
  const config = { ...CONFIG_DEFAULTS, ...(raw as Partial<ClusterConfig>) } as ClusterConfig;
  checkNodesAreDistinct(config.nodes, source);
  if (config.heartbeat_ms >= config.failover_timeout_ms) {
    throw new ConfigError(`${source}: heartbeat_ms (${config.heartbeat_ms}) must be below failover_timeout_ms (${config.failover_timeout_ms})`);
  }
  return config;
}

function checkNodesAreDistinct(nodes: NodeConfig[], source: string): void {
  const ids = new Set<number>();
  const ports = new Set<string>();
  for (const node of nodes) {
    if (ids.has(node.id)) throw new ConfigError(`${source}: node id ${node.id} appears twice in /nodes`);
    ids.add(node.id);
    const hostPort = new URL(node.url).host;
    if (ports.has(hostPort)) throw new ConfigError(`${source}: ${hostPort} appears twice in /nodes`);
    ports.add(hostPort);
  }
}

export function loadConfig(file: string): ClusterConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(raw, file);
}

export function portOf(node: NodeConfig): number {
  return Number(new URL(node.url).port);
}

/** The node whose URL has this port; a clear error when none does. */
export function findNodeByPort(config: ClusterConfig, port: number): NodeConfig {
  const matches = config.nodes.filter((node) => portOf(node) === port);
  if (matches.length === 0) {
    const known = config.nodes.map((node) => portOf(node)).join(', ');
    throw new ConfigError(`no node in the config listens on port ${port} (ports: ${known})`);
  }
  return matches[0];
}
