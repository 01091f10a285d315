/**
 * The peer transport of one simulated node (src/node/peer-transport.ts's
 * interface, which src/replication/transport.ts implements over HTTP).
 * Messages travel over the simulated links to the other nodes' receive();
 * forwarded writes and read-index requests are requests with an answer: a
 * master that is down fails them at once, refused (ECONNREFUSED: the write
 * never reached it, so the slave may retry elsewhere) or reset (a kept-alive
 * connection, as HttpTransport sees it); a master that dies with the request
 * resets the connection (ECONNRESET: the write may have been applied); a
 * lost leg leaves the caller to its own timeout.
 */
import type { CheckpointAnswer, CheckpointRequest, ForwardAnswer, ForwardedWrite, NodeMessage, PeerTransport, ReadIndexAnswer, RepairAnswer } from '../../../src/node/peer-transport';
import type { DdbNode } from '../../../src/node/node';
import type { PeerInspector } from '../../../src/replication/channel-transport';
import type { OutgoingInstall } from '../../../src/replication/snapshot-stream';
import type { SimClock } from './sim-clock';
import type { SimLinks } from './sim-links';
import type { Scheduler } from './scheduler';

/** How the transport reaches the other nodes: whichever life of them runs when a message arrives. */
export interface SimPeers {
  /** Runs `run` on node `id`'s current life if it is up (deferred while it is paused); false when it is down. */
  onNode(id: number, run: (node: DdbNode) => void): boolean;
  /** Runs `ending` when node `id`'s current life ends. */
  onEnd(id: number, ending: () => void): void;
}

const FAILURE_DELAY_MS = 1;

function failed(code: 'ECONNREFUSED' | 'ECONNRESET'): Error {
  return Object.assign(new Error(`${code} (simulated)`), { code });
}

export class SimTransport implements PeerTransport {
  constructor(
    private readonly id: number,
    private readonly scheduler: Scheduler,
    private readonly clock: SimClock,
    private readonly links: SimLinks,
    private readonly peers: SimPeers,
    /**
     * The receiving node's peer inspector (src/replication/peer-inspector.ts),
     * as the real channel applies it: every message and forwarded write a
     * real node sends must pass it, so a check that refuses real traffic fails
     * the simulation.
     */
    private readonly inspectorOf?: (id: number) => PeerInspector,
  ) {}

  send(messages: NodeMessage[]): void {
    for (const message of messages) {
      this.inspectorOf?.(message.to).messages({ messages: [message] }, this.id);
      for (const delay_ms of this.links.deliveries(this.id, message.to)) {
        this.scheduler.after(delay_ms, () => {
          this.peers.onNode(message.to, (node) => node.receive([message]));
        });
      }
    }
  }

  /** Put together as the real channel's receiver does. */
  sendRepair(message: OutgoingInstall): void {
    const { data } = message.snapshot;
    const image = data instanceof Uint8Array ? data : new Uint8Array(Buffer.concat(data));
    this.send([{ ...message, snapshot: { meta: message.snapshot.meta, data: image } }]);
  }

  forwardWrites(master_id: number, writes: ForwardedWrite[], timeout_ms: number): Promise<ForwardAnswer[]> {
    this.inspectorOf?.(master_id).forwardedWrites(JSON.parse(JSON.stringify(writes)));
    return this.request(master_id, timeout_ms, (node) => node.proposeForwarded(writes));
  }

  readIndex(master_id: number, timeout_ms: number): Promise<ReadIndexAnswer> {
    return this.request(master_id, timeout_ms, (node) => node.answerReadIndex());
  }

  checkpoint(master_id: number, request: CheckpointRequest, timeout_ms: number): Promise<CheckpointAnswer> {
    return this.request(master_id, timeout_ms, (node) => node.answerCheckpoint(this.id, request));
  }

  requestRepair(master_id: number, timeout_ms: number): Promise<RepairAnswer> {
    return this.request(master_id, timeout_ms, (node) => node.answerRepair(this.id));
  }

  passStarted(): void {}

  passEnded(): void {}

  idle(): void {}

  close(): void {}

  private request<A>(to: number, timeout_ms: number, serve: (node: DdbNode) => Promise<A>): Promise<A> {
    return new Promise<A>((resolve, reject) => {
      let settled = false;
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        finish();
      };
      // The caller's own clock: if the caller dies first, nothing is left waiting for it.
      this.clock.after(timeout_ms, () => settle(() => reject(new Error('timeout (simulated)'))));
      const there_ms = this.links.leg(this.id, to);
      if (there_ms === null) return;
      this.scheduler.after(there_ms, () => {
        const up = this.peers.onNode(to, (node) => {
          this.peers.onEnd(to, () => this.clock.after(FAILURE_DELAY_MS, () => settle(() => reject(failed('ECONNRESET')))));
          serve(node).then((answer) => {
            const back_ms = this.links.leg(to, this.id);
            if (back_ms !== null) this.clock.after(back_ms, () => settle(() => resolve(answer)));
          }, () => undefined);
        });
        if (!up) {
          const code = this.links.downCode();
          this.clock.after(FAILURE_DELAY_MS, () => settle(() => reject(failed(code))));
        }
      });
    });
  }
}
