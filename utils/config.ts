/**
 * config.json: the cluster's nodes and timings, validated with ajv. Unknown keys
 * and wrong types are errors that name the key; defaults are the contract's.
 * File names in it are relative to the config file's own directory, so a
 * config means the same files whatever directory a node is started from; the
 * parsed config holds them resolved, as absolute paths.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import { ConfigError } from './config-error';

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
  /**
   * Longest a SQL read may run before it is stopped (408 QUERY_TIMEOUT). A SQL
   * write gets the smaller of this and half of failover_timeout_ms for its
   * trial run on the master, because every node applies it on its main thread.
   */
  statement_timeout_ms: number;
  /** Largest value zeroblob(), randomblob(), printf(), replace(), hex(), quote() may make (default: body_limit_bytes). */
  value_size_max_bytes: number;
  /** Largest answer a read may build, counted as JSON text (400 RESULT_TOO_LARGE beyond). */
  result_size_max_bytes: number;
  /** Each database's quota (507 QUOTA_EXCEEDED beyond). */
  database_size_max_bytes: number;
  /** Users with password hashes and roles (src/auth/), relative to the config file; absent, the public API is open. */
  users_file?: string;
  /** The directory config.json is in (the working directory for a config that is no file): relative paths start here. */
  config_dir: string;
  /** The peers' shared secret (utils/cluster-secret.ts), absolute; default `cluster.key` beside config.json. */
  cluster_secret_file: string;
  /** Present exactly when the nodes' URLs are https://; absolute paths. */
  tls?: TlsFiles;
  /** true: a node on a non-loopback address may run without users and TLS (src/cli/protected-mode.ts). */
  insecure: boolean;
}

/** PEM files: this node's certificate (with its chain) and private key, and the CA every node's certificate is checked against. */
export interface TlsFiles {
  cert_file: string;
  key_file: string;
  ca_file: string;
}

export const CLUSTER_SECRET_FILE_DEFAULT = 'cluster.key';

export const CONFIG_DEFAULTS = {
  heartbeat_ms: 100,
  failover_timeout_ms: 1000,
  election_stagger_ms: 300,
  data_dir: 'data',
  body_limit_bytes: 1_048_576,
  write_timeout_ms: 5000,
  log_entries_max: 10_000,
  statement_timeout_ms: 5000,
  /** value_size_max_bytes has no constant default: it defaults to body_limit_bytes. */
  result_size_max_bytes: 67_108_864,
  database_size_max_bytes: 1_073_741_824,
  insecure: false,
} as const;

const fileName = { type: 'string', minLength: 1, maxLength: 4096 } as const;

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
          url: { type: 'string', pattern: '^https?://[^/\\s]+:[0-9]{1,5}/?$' },
        },
      },
    },
    heartbeat_ms: { type: 'integer', minimum: 5, maximum: 60_000 },
    failover_timeout_ms: { type: 'integer', minimum: 20, maximum: 600_000 },
    election_stagger_ms: { type: 'integer', minimum: 0, maximum: 600_000 },
    data_dir: { type: 'string', minLength: 1 },
    // 64 MiB at most: a value must fit, with JSON's escapes, in one string V8 can make (~512 MiB).
    body_limit_bytes: { type: 'integer', minimum: 1024, maximum: 67_108_864 },
    write_timeout_ms: { type: 'integer', minimum: 10, maximum: 600_000 },
    log_entries_max: { type: 'integer', minimum: 10, maximum: 10_000_000 },
    statement_timeout_ms: { type: 'integer', minimum: 10, maximum: 3_600_000 },
    // 1e9 is SQLite's own SQLITE_MAX_LENGTH.
    value_size_max_bytes: { type: 'integer', minimum: 1024, maximum: 1_000_000_000 },
    // Even an answer of control characters (6 characters of JSON each) stays below V8's ~536 M character string.
    result_size_max_bytes: { type: 'integer', minimum: 65_536, maximum: 80_000_000 },
    // 1 GiB is the ceiling of SQLite's in-memory databases (SQLITE_MEMDB_DEFAULT_MAXSIZE).
    database_size_max_bytes: { type: 'integer', minimum: 65_536, maximum: 1_073_741_824 },
    users_file: { type: 'string', minLength: 1 },
    cluster_secret_file: fileName,
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['cert_file', 'key_file', 'ca_file'],
      properties: { cert_file: fileName, key_file: fileName, ca_file: fileName },
    },
    insecure: { type: 'boolean' },
  },
} as const;

const ajv = new Ajv({ allErrors: true });
const validateConfig = ajv.compile(configSchema);

export { ConfigError };

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

export interface ParseOptions {
  /** Named in every error: the config file, or what the config came from. */
  source?: string;
  /** Where relative file names start: the config file's directory (default: the working directory). */
  config_dir?: string;
}

/** Validates a parsed config, fills in the defaults and resolves its file names. Throws ConfigError naming what is wrong. */
export function parseConfig(raw: unknown, options: ParseOptions = {}): ClusterConfig {
  const source = options.source ?? 'config';
  if (!validateConfig(raw)) {
    const problems = (validateConfig.errors ?? []).map((error) => describeAjvError(error, ''));
    throw new ConfigError(`${source}: ${problems.join('; ')}`);
  }
  const config_dir = path.resolve(options.config_dir ?? '.');
  const given = raw as Partial<ClusterConfig>;
  const config: ClusterConfig = {
    ...CONFIG_DEFAULTS,
    ...given,
    value_size_max_bytes: given.value_size_max_bytes ?? given.body_limit_bytes ?? CONFIG_DEFAULTS.body_limit_bytes,
    config_dir,
    cluster_secret_file: path.resolve(config_dir, given.cluster_secret_file ?? CLUSTER_SECRET_FILE_DEFAULT),
    ...(given.users_file === undefined ? {} : { users_file: path.resolve(config_dir, given.users_file) }),
    ...(given.tls === undefined ? {} : { tls: resolveTlsFiles(given.tls, config_dir) }),
  } as ClusterConfig;
  checkNodesAreDistinct(config.nodes, source);
  checkSchemeMatchesTls(config, source);
  if (config.heartbeat_ms >= config.failover_timeout_ms) {
    throw new ConfigError(`${source}: heartbeat_ms (${config.heartbeat_ms}) must be below failover_timeout_ms (${config.failover_timeout_ms})`);
  }
  return config;
}

function resolveTlsFiles(files: TlsFiles, config_dir: string): TlsFiles {
  return {
    cert_file: path.resolve(config_dir, files.cert_file),
    key_file: path.resolve(config_dir, files.key_file),
    ca_file: path.resolve(config_dir, files.ca_file),
  };
}

/** Every node speaks one scheme, and https:// comes with the tls files (and only with them). */
function checkSchemeMatchesTls(config: ClusterConfig, source: string): void {
  const [first, ...others] = config.nodes.map((node) => ({ id: node.id, scheme: new URL(node.url).protocol }));
  const other = others.find((node) => node.scheme !== first?.scheme);
  if (first !== undefined && other !== undefined) {
    throw new ConfigError(`${source}: node ${first.id} uses ${first.scheme}// but node ${other.id} uses ${other.scheme}//; every node must use the same scheme (https:// with "tls", or http://)`);
  }
  const https = first?.scheme === 'https:';
  if (https && config.tls === undefined) {
    throw new ConfigError(`${source}: the nodes' URLs are https:// but there is no "tls" key; add "tls": {"cert_file": "...", "key_file": "...", "ca_file": "..."} (the README's TLS section shows how to make them)`);
  }
  if (!https && config.tls !== undefined) {
    throw new ConfigError(`${source}: "tls" is set but the nodes' URLs are http://; change every URL to https:// (or remove "tls")`);
  }
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
  return parseConfig(raw, { source: file, config_dir: path.dirname(path.resolve(file)) });
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
