/**
 * The one place milliseconds become ticks. The replica counts logical ticks;
 * the node calls `tick()` every `tick_ms`.
 */
import type { ClusterConfig } from '../utils/config';

export interface Timing {
  tick_ms: number;
  heartbeat_ticks: number;
  failover_timeout_ticks: number;
  election_stagger_ticks: number;
}

/** Ticks fine enough that a heartbeat is at least 5 ticks, and never over 10 ms. */
export function timingFor(config: Pick<ClusterConfig, 'heartbeat_ms' | 'failover_timeout_ms' | 'election_stagger_ms'>): Timing {
  const tick_ms = Math.max(1, Math.min(10, Math.floor(config.heartbeat_ms / 5)));
  const ticks = (ms: number) => Math.max(1, Math.round(ms / tick_ms));
  return {
    tick_ms,
    heartbeat_ticks: ticks(config.heartbeat_ms),
    failover_timeout_ticks: ticks(config.failover_timeout_ms),
    election_stagger_ticks: config.election_stagger_ms === 0 ? 0 : ticks(config.election_stagger_ms),
  };
}
