/**
 * What a node (or a local cluster's supervisor, for all its nodes) settles
 * before it serves: protected mode's verdict, the cluster key (made here on a
 * first start), the users file and the TLS files. Each failure is a ConfigError, exit code 2,
 * before anything listens; the supervisor runs these first so a problem is
 * said once rather than by every node.
 */
import { protectedMode } from './protected-mode';
import { loadClusterSecret } from '../../utils/cluster-secret';
import { ConfigError, type ClusterConfig, type NodeConfig } from '../../utils/config';
import { readUsersFile } from '../auth/users-file';
import { tlsMaterial, type TlsMaterial } from '../http/tls-material';

export interface StartMaterial {
  cluster_secret: Buffer;
  /** Present with https:// URLs. */
  tls?: TlsMaterial;
  /** Protected mode's word to say once at start (an open API on loopback, `insecure`); null when there is none. */
  notice: StartNotice | null;
}

export interface StartNotice {
  level: 'info' | 'warn';
  text: string;
}

export function checkStart(options: { config: ClusterConfig; nodes: readonly NodeConfig[]; config_file: string }): StartMaterial {
  const { config, nodes } = options;
  const verdict = protectedMode(config, nodes, options.config_file);
  if (verdict.kind === 'refused') throw new ConfigError(verdict.message);
  const cluster_secret = loadClusterSecret(config);
  // A users file that is missing or does not validate is refused before anything listens.
  if (config.users_file !== undefined) readUsersFile(config.users_file);
  const tls = config.tls === undefined ? undefined : nodes.map((node) => tlsMaterial(config, node))[0];
  const notice: StartNotice | null =
    verdict.kind === 'protected' ? null : { level: verdict.kind === 'insecure' ? 'warn' : 'info', text: verdict.notice };
  return { cluster_secret, tls, notice };
}
