/**
 * The one place milliseconds become ticks. The replica counts logical ticks;
 * the node's timer asks a TickClock how many ticks the elapsed time is worth.
 */
import type { ClusterConfig } from '../../utils/config';

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

/**
 * Elapsed milliseconds as whole ticks. A timer callback runs late when the
 * event loop is busy or the process is starved of CPU; counting callbacks
 * would slow that node's clock, and a slave starved for a stagger's worth of
 * time would then campaign after a slave ranked behind it. Counting elapsed
 * time keeps every node's timeouts in wall-clock milliseconds.
 *
 * After a long stall (SIGSTOP, a long pause) at most `max_ticks` are due at
 * once: enough for every timeout to expire, without a flood of heartbeats.
 */
export class TickClock {
  private counted_to_ms: number;

  constructor(
    private readonly tick_ms: number,
    private readonly max_ticks: number,
    now_ms: number,
  ) {
    this.counted_to_ms = now_ms;
  }

  /** Ticks due since the last call; the remainder under one tick carries over. */
  due(now_ms: number): number {
    const ticks = Math.floor((now_ms - this.counted_to_ms) / this.tick_ms);
    if (ticks <= 0) return 0;
    if (ticks > this.max_ticks) {
      this.counted_to_ms = now_ms;
      return this.max_ticks;
    }
    this.counted_to_ms += ticks * this.tick_ms;
    return ticks;
  }
}
