/**
 * Protected mode (after Redis's): a node reachable from other machines must
 * not come up open by accident. A node whose URL is not a loopback address
 * starts only when users (`users_file`) and TLS (`tls`, https:// URLs) are
 * configured, or when `"insecure": true` says the operator means it. Peer
 * authentication needs no setting: the cluster key is always there.
 * A cluster on loopback alone may run without users, as ddb always has; the
 * verdict then carries a notice that the API is open, said once at start.
 * Pure: the caller decides what a refusal and a notice become.
 */
import net from 'node:net';
import type { ClusterConfig, NodeConfig } from '../../utils/config';

export type Protection = 'users' | 'tls';

export type Verdict =
  | { kind: 'protected' }
  | { kind: 'open_on_loopback'; notice: string }
  | { kind: 'insecure'; notice: string }
  | { kind: 'refused'; message: string };

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
// IPv4-mapped IPv6 (::ffff:127.0.0.1) is checked as IPv4 by BlockList itself.

const HOW_TO_SET: Record<Protection, string> = {
  users: 'users: set "users_file" to a file of users and their roles (the README\'s "Users and roles" says how to make one)',
  tls: 'TLS: make every URL https:// and set "tls": {"cert_file": ..., "key_file": ..., "ca_file": ...} (the README\'s "TLS" says how to make the certificates)',
};

/** 127.0.0.0/8, ::1 and the name localhost: addresses no other machine can reach. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host === 'localhost.') return true;
  const family = net.isIP(host);
  if (family === 0) return false;
  return LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

export function missingProtections(config: Pick<ClusterConfig, 'users_file' | 'tls'>): Protection[] {
  const missing: Protection[] = [];
  if (config.users_file === undefined) missing.push('users');
  if (config.tls === undefined) missing.push('tls');
  return missing;
}

/** What protected mode says about starting `nodes` (one node, or a local cluster's every node) under `config`. */
export function protectedMode(config: Pick<ClusterConfig, 'users_file' | 'tls' | 'insecure' | 'cluster_secret_file'>, nodes: readonly NodeConfig[], config_file = 'config.json'): Verdict {
  const exposed = nodes.filter((node) => !isLoopbackHost(new URL(node.url).hostname));
  const missing = missingProtections(config);
  if (exposed.length === 0) {
    if (!missing.includes('users')) return { kind: 'protected' };
    const which = nodes.length === 1 ? `node ${nodes[0]?.id} is on loopback` : 'every node is on loopback';
    return { kind: 'open_on_loopback', notice: `${which} and no users_file is set: the public API is open to every program on this machine (set users_file in ${config_file} to require a login)` };
  }
  if (missing.length === 0) return { kind: 'protected' };
  const where = exposed.map((node) => `node ${node.id} (${new URL(node.url).host})`).join(', ');
  const names = missing.map((protection) => (protection === 'users' ? 'users' : 'TLS')).join(' and ');
  if (config.insecure) {
    return { kind: 'insecure', notice: `"insecure": true: ${where} serves without ${names}; anyone who can reach it can read and change every database, and see its traffic` };
  }
  const lines = [
    `${where} ${exposed.length === 1 ? 'is' : 'are'} not on a loopback address, so protected mode asks for users, TLS and peer authentication before serving; missing: ${names}.`,
    ...missing.map((protection) => `  - ${HOW_TO_SET[protection]}`),
    `  (peer authentication is on: the cluster key ${config.cluster_secret_file})`,
    `Set them in ${config_file}, or, to run without them on purpose (a private network you trust), set "insecure": true there.`,
  ];
  return { kind: 'refused', message: lines.join('\n') };
}
