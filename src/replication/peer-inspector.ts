/**
 * The checks every decoded peer input passes before it reaches the node: the
 * channel has already verified that it comes from `sender_id`. Messages must
 * be from that sender and to this node, of a known type.
 */
import type { ForwardedWrite, NodeMessage } from '../node/peer-transport';
import type { PeerInspector } from './channel-transport';

const MESSAGE_TYPES = new Set(['append_entries', 'append_response', 'request_vote', 'vote_response', 'install_snapshot']);

export class PeerInputError extends Error {
  override name = 'PeerInputError';
}

export function peerInspector(self_id: number): PeerInspector {
  return {
    messages(raw: unknown, sender_id: number): NodeMessage[] {
      if (!Array.isArray((raw as { messages?: unknown })?.messages)) throw new PeerInputError('not a list of messages');
      const messages = (raw as { messages: unknown[] }).messages;
      for (const message of messages) {
        const { type, from, to } = (message ?? {}) as { type?: unknown; from?: unknown; to?: unknown };
        if (typeof type !== 'string' || !MESSAGE_TYPES.has(type)) throw new PeerInputError(`unknown message type ${String(type)}`);
        if (from !== sender_id) throw new PeerInputError(`a message from ${String(from)} on the connection of node ${sender_id}`);
        if (to !== self_id) throw new PeerInputError(`a message for ${String(to)} sent to node ${self_id}`);
      }
      return messages as NodeMessage[];
    },
    forwardedWrites(raw: unknown): ForwardedWrite[] {
      if (!Array.isArray(raw)) throw new PeerInputError('forwarded writes must be a list');
      return raw as ForwardedWrite[];
    },
  };
}
