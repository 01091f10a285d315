/** GET /status: the replica's view of the cluster, in the contract's shape. */
import type { NodeStatus, MemberStatus } from '../../handlers/service';
import type { NodeConfig } from '../../utils/config';
import type { ContentCheckStatus } from './content-check';
import type { ReplicaStatus } from '../replication/replica';

export interface StatusInputs {
  self: NodeConfig;
  urls: Map<number, string>;
  replica: ReplicaStatus;
  applied_index: number;
  state_hash: string;
  content_hash: string;
  content_check: ContentCheckStatus;
  tick_ms: number;
}

export function buildStatus(inputs: StatusInputs): NodeStatus {
  const { replica, self, urls } = inputs;
  const masterId = replica.role === 'master' ? self.id : replica.master_id;
  const nodes: MemberStatus[] = [...urls].map(([id, url]) => {
    if (id === self.id) {
      return { id, url, role: replica.role, alive: true, match_index: replica.last_index, last_contact_ms: 0 };
    }
    const peer = replica.peers.find((candidate) => candidate.id === id);
    const last_contact_ms = peer?.last_contact_ticks_ago == null ? null : peer.last_contact_ticks_ago * inputs.tick_ms;
    const role: MemberStatus['role'] = id === masterId ? 'master' : peer?.alive ? 'slave' : 'unknown';
    return { id, url, role, alive: peer?.alive ?? false, match_index: peer?.match_index ?? 0, last_contact_ms };
  });
  return {
    id: self.id,
    url: urls.get(self.id) ?? self.url,
    role: replica.role,
    term: replica.term,
    master_id: masterId,
    master_url: masterId === null ? null : (urls.get(masterId) ?? null),
    commit_index: replica.commit_index,
    applied_index: inputs.applied_index,
    log_entries: replica.last_index - replica.first_index + 1,
    snapshot_index: replica.snapshot_index,
    state_hash: inputs.state_hash,
    content_hash: inputs.content_hash,
    content_check: inputs.content_check,
    nodes,
  };
}
