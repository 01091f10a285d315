/**
 * What the node shell needs of the peer channel, declared here so the node
 * depends on this and not on HTTP: src/replication/transport.ts implements it
 * over keep-alive HTTP, the simulator (test/sim) over a simulated network.
 * Messages it receives the transport hands to the node (DdbNode.receive,
 * proposeForwarded, confirmReadIndex).
 */
import type { Command } from '../../database/commands';
import type { ErrorBody } from '../../utils/errors';
import type { Message } from '../replication/messages';
import type { OutgoingInstall } from '../replication/snapshot-stream';
import type { LogPayload } from './applied-state';

export type NodeMessage = Message<LogPayload>;

/** A write a slave forwards: the command, and the user it was accepted for (the master checks that user again). */
export interface ForwardedWrite {
  command: Command;
  user: string | null;
}

/** The master's answer to one forwarded write. */
export type ForwardAnswer = { ok: true; value: unknown } | { ok: false; error: ErrorBody };

/** The master's answer to a read-index request. */
export type ReadIndexAnswer = { ok: true; index: number } | { ok: false; error: ErrorBody };

/** A slave's hashes at one applied index, for the master to compare with its own (content-check.ts). */
export interface CheckpointRequest {
  index: number;
  state_hash: string;
  content_hash: string;
}

/** The master's hashes at that index: null when it has not applied it yet, or no longer remembers it. */
export type CheckpointAnswer = { ok: true; hashes: AppliedHashes | null } | { ok: false; error: ErrorBody };

export interface AppliedHashes {
  state_hash: string;
  content_hash: string;
}

/** The master sends its image to a slave that asked for a repair: the index it was taken at. */
export type RepairAnswer = { ok: true; index: number } | { ok: false; error: ErrorBody };

export interface PeerTransport {
  /** Fire and forget: Raft tolerates loss, and answers are messages of their own. */
  send(messages: NodeMessage[]): void;
  /** A slave's writes, run by the master; one answer per command, in order. Rejects when the request failed. */
  forwardWrites(master_id: number, writes: ForwardedWrite[], timeout_ms: number): Promise<ForwardAnswer[]>;
  /** A read index the master confirmed with a majority. Rejects when the request failed. */
  readIndex(master_id: number, timeout_ms: number): Promise<ReadIndexAnswer>;
  /** The master's hashes at the slave's index. Rejects when the request failed. */
  checkpoint(master_id: number, request: CheckpointRequest, timeout_ms: number): Promise<CheckpointAnswer>;
  /** The master's image to a slave that asked for it (marked repair), in pieces sent in order as one image. */
  sendRepair(message: OutgoingInstall): void;
  /** Asks the master for its image now (an install_snapshot marked repair). Rejects when the request failed. */
  requestRepair(master_id: number, timeout_ms: number): Promise<RepairAnswer>;
  /** A ready pass took its work: requests received so far are answered by what it sends. */
  passStarted(): void;
  /** That pass has sent what it sends. */
  passEnded(): void;
  /** Nothing is ready: requests still waiting need no answer. */
  idle(): void;
  close(): void;
}
