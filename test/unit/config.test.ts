/** config.json validation and the CLI arguments: errors name what is wrong. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCliArgs, UsageError } from '../../src/cli/cli-args';
import { timingFor } from '../../src/node/ticks';
import { CONFIG_DEFAULTS, ConfigError, findNodeByPort, loadConfig, parseConfig } from '../../utils/config';

const nodes = [
  { id: 1, url: 'http://127.0.0.1:8080' },
  { id: 2, url: 'http://127.0.0.1:8081' },
];
const httpsNodes = nodes.map((node) => ({ ...node, url: node.url.replace('http:', 'https:') }));
const tls = { cert_file: 'node.crt', key_file: 'node.key', ca_file: 'ca.crt' };

describe('parseConfig', () => {
  it('fills in the contract defaults', () => {
    const config = parseConfig({ nodes });
    expect(config).toMatchObject({ heartbeat_ms: 100, failover_timeout_ms: 1000, election_stagger_ms: 300, data_dir: 'data' });
    expect(config.body_limit_bytes).toBe(CONFIG_DEFAULTS.body_limit_bytes);
    expect(config).toMatchObject({
      value_size_max_bytes: CONFIG_DEFAULTS.body_limit_bytes,
      result_size_max_bytes: 67_108_864,
      database_size_max_bytes: 1_073_741_824,
    });
  });

  it('value_size_max_bytes defaults to body_limit_bytes, and may be set on its own', () => {
    expect(parseConfig({ nodes, body_limit_bytes: 4096 }).value_size_max_bytes).toBe(4096);
    expect(parseConfig({ nodes, body_limit_bytes: 4096, value_size_max_bytes: 8192 }).value_size_max_bytes).toBe(8192);
  });

  it('accepts the shipped config.json', () => {
    expect(loadConfig(path.join(__dirname, '..', '..', 'config.json')).nodes.map((node) => node.id)).toEqual([1, 2, 3]);
  });

  it.each([
    [{ nodes, heartbeat: 5 }, /unknown key 'heartbeat'/],
    [{ nodes: [{ id: 1, url: 'http://127.0.0.1:8080', name: 'x' }] }, /unknown key 'name' at \/nodes\/0/],
    [{ nodes: [{ id: '1', url: 'http://127.0.0.1:8080' }] }, /\/nodes\/0\/id must be integer/],
    [{ nodes, heartbeat_ms: '100' }, /\/heartbeat_ms must be integer/],
    [{}, /missing key 'nodes'/],
    [{ nodes: [] }, /\/nodes must NOT have fewer than 1 items/],
    [{ nodes: [nodes[0], { id: 1, url: 'http://127.0.0.1:9000' }] }, /node id 1 appears twice/],
    [{ nodes: [nodes[0], { id: 2, url: 'http://127.0.0.1:8080' }] }, /127.0.0.1:8080 appears twice/],
    [{ nodes, heartbeat_ms: 1000, failover_timeout_ms: 500 }, /heartbeat_ms \(1000\) must be below failover_timeout_ms/],
    [{ nodes: [{ id: 1, url: 'ftp://x:1' }] }, /\/nodes\/0\/url must match/],
    [{ nodes: [nodes[0], { id: 2, url: 'https://127.0.0.1:8081' }], tls }, /node 1 uses http:\/\/ but node 2 uses https:\/\/; every node must use the same scheme/],
    [{ nodes: httpsNodes }, /URLs are https:\/\/ but there is no "tls" key; add "tls": \{"cert_file"/],
    [{ nodes, tls }, /"tls" is set but the nodes' URLs are http:\/\/; change every URL to https:\/\//],
    [{ nodes: httpsNodes, tls: { cert_file: 'a', key_file: 'b' } }, /missing key 'ca_file' at \/tls/],
    [{ nodes: httpsNodes, tls: { ...tls, ca: 'c' } }, /unknown key 'ca' at \/tls/],
    [{ nodes, insecure: 'yes' }, /\/insecure must be boolean/],
    [{ nodes, cluster_secret_file: '' }, /\/cluster_secret_file must NOT have fewer than 1 characters/],
    [{ nodes, users_file: 7 }, /\/users_file must be string/],
    [{ nodes, value_size_max_bytes: 10 }, /\/value_size_max_bytes must be >= 1024/],
    [{ nodes, value_size_max_bytes: 2_000_000_000 }, /\/value_size_max_bytes must be <= 1000000000/],
    [{ nodes, result_size_max_bytes: 1.5 }, /\/result_size_max_bytes must be integer/],
    [{ nodes, result_size_max_bytes: 100_000_000 }, /\/result_size_max_bytes must be <= 80000000/],
    [{ nodes, database_size_max_bytes: 2_000_000_000 }, /\/database_size_max_bytes must be <= 1073741824/],
    [{ nodes, database_size_max_bytes: '1G' }, /\/database_size_max_bytes must be integer/],
  ])('refuses %j', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('says which file is not JSON', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-config-'));
    const file = path.join(dir, 'config.json');
    try {
      fs.writeFileSync(file, '{ nodes: ');
      expect(() => loadConfig(file)).toThrow(new RegExp(`${file} is not valid JSON`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resolves file names against the config file\'s directory, and puts cluster.key beside it by default', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-config-'));
    const file = path.join(dir, 'config.json');
    try {
      fs.writeFileSync(file, JSON.stringify({ nodes: httpsNodes, tls: { ...tls, ca_file: '/etc/ddb/ca.crt' }, users_file: 'users.json' }));
      const config = loadConfig(path.relative(process.cwd(), file));
      expect(config).toMatchObject({ config_dir: dir, cluster_secret_file: path.join(dir, 'cluster.key'), users_file: path.join(dir, 'users.json'), insecure: false });
      expect(config.tls).toEqual({ cert_file: path.join(dir, 'node.crt'), key_file: path.join(dir, 'node.key'), ca_file: '/etc/ddb/ca.crt' });
      fs.writeFileSync(file, JSON.stringify({ nodes, cluster_secret_file: '../keys/ddb.key', insecure: true }));
      expect(loadConfig(file)).toMatchObject({ cluster_secret_file: path.join(path.dirname(dir), 'keys', 'ddb.key'), insecure: true });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resolves against the working directory for a config that is no file', () => {
    expect(parseConfig({ nodes }).cluster_secret_file).toBe(path.resolve('cluster.key'));
    expect(parseConfig({ nodes }, { config_dir: '/srv/ddb' }).cluster_secret_file).toBe('/srv/ddb/cluster.key');
  });

  it('finds a node by port, and names the known ports otherwise', () => {
    const config = parseConfig({ nodes });
    expect(findNodeByPort(config, 8081).id).toBe(2);
    expect(() => findNodeByPort(config, 9999)).toThrow(ConfigError);
    expect(() => findNodeByPort(config, 9999)).toThrow(/ports: 8080, 8081/);
  });
});

describe('parseCliArgs', () => {
  it('reads the port and flags', () => {
    expect(parseCliArgs(['8080', '--config', 'c.json', '--data-dir', 'd', '--in-memory', '--log-level', 'warn'])).toEqual({
      port: 8080, config_file: 'c.json', data_dir: 'd', in_memory: true, log_level: 'warn',
    });
    expect(parseCliArgs([]).port).toBeNull();
  });

  it.each([[['8080', '9090']], [['--config']], [['70000']], [['--log-level', 'loud']], [['--nope']]])('refuses %j', (argv) => {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
  });
});

describe('timingFor', () => {
  it('turns the default config into ticks of 10 ms', () => {
    expect(timingFor({ heartbeat_ms: 100, failover_timeout_ms: 1000, election_stagger_ms: 300 })).toEqual({
      tick_ms: 10, heartbeat_ticks: 10, failover_timeout_ticks: 100, election_stagger_ticks: 30,
    });
  });

  it('keeps at least 5 ticks per heartbeat for fast configs', () => {
    const timing = timingFor({ heartbeat_ms: 20, failover_timeout_ms: 100, election_stagger_ms: 30 });
    expect(timing.tick_ms).toBe(4);
    expect(timing.heartbeat_ticks).toBe(5);
  });
});
