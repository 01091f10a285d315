/**
 * GET /ready: whether this node can serve the cluster's current data, as
 * opposed to /health, which only says the process answers. Like rqlite's
 * /readyz and a Kubernetes readiness probe, it is 503 with the reason until
 * the node knows a live master and has applied everything that master had
 * committed when it last heard from it.
 */
import type { ReplicaStatus } from '../replication/messages';

export type Readiness = { ready: true } | { ready: false; reason: string };

export interface ReadinessInputs {
  replica: ReplicaStatus;
  applied_index: number;
  /** How long since this node last heard from the master it follows; null when it follows none. */
  master_silent_ms: number | null;
  failover_timeout_ms: number;
}

export function readinessOf(inputs: ReadinessInputs): Readiness {
  const { replica, applied_index } = inputs;
  if (replica.role === 'candidate') return { ready: false, reason: `no master: an election for term ${replica.term + (replica.pre_candidate ? 1 : 0)} is in progress` };
  if (replica.role === 'master' && !replica.term_start_committed) {
    return { ready: false, reason: `the new master has not yet committed the first entry of term ${replica.term}` };
  }
  if (replica.role === 'slave') {
    if (replica.master_id === null) return { ready: false, reason: 'no master known yet' };
    const silent_ms = inputs.master_silent_ms ?? Infinity;
    if (silent_ms >= inputs.failover_timeout_ms) {
      return { ready: false, reason: `no word from the master (node ${replica.master_id}) for ${silent_ms} ms` };
    }
  }
  if (applied_index < replica.master_commit_index) {
    return { ready: false, reason: `catching up: applied ${applied_index} of the ${replica.master_commit_index} entries the master has committed` };
  }
  return { ready: true };
}
