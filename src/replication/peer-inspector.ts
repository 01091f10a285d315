/**
 * The checks every decoded peer input passes before it reaches the node: the
 * channel has already verified that it comes from `sender_id`. Messages are
 * checked field by field (peer-validation.ts), entries carrying what a node
 * accepts (src/node/payload-validation.ts); forwarded writes must be commands
 * the public API could have made, within its body limit. Anything else throws
 * PeerInputError, and the channel refuses it.
 */
import { FORWARD_BATCH_WRITES_MAX } from '../node/forward-queue';
import { checkCommandWithin, checkLogPayload } from '../node/payload-validation';
import type { ForwardedWrite, NodeMessage } from '../node/peer-transport';
import type { PeerInspector } from './channel-transport';
import { PeerInputError, PeerValidator } from './peer-validation';

export { PeerInputError };

/** A forwarded write's user: a name from the users file, short. */
export const USER_NAME_CHARS_MAX = 256;

export interface InspectorOptions {
  self_id: number;
  member_ids: readonly number[];
  body_limit_bytes: number;
  entries_per_message_max: number;
}

export function peerInspector(options: InspectorOptions): PeerInspector {
  const { body_limit_bytes } = options;
  const validator = new PeerValidator({
    self_id: options.self_id,
    member_ids: options.member_ids,
    entries_per_message_max: options.entries_per_message_max,
    checkData: (data) => checkLogPayload(data, body_limit_bytes),
  });
  return {
    messages(raw: unknown, sender_id: number): NodeMessage[] {
      return validator.frame(raw, sender_id) as NodeMessage[];
    },
    forwardedWrites(raw: unknown): ForwardedWrite[] {
      return checkForwardedWrites(raw, body_limit_bytes);
    },
  };
}

/** A bounded list of {command, user}: each command valid and within the body limit, each user null or a short name. */
export function checkForwardedWrites(raw: unknown, body_limit_bytes: number): ForwardedWrite[] {
  if (!Array.isArray(raw)) throw new PeerInputError('forwarded writes must be a list');
  if (raw.length > FORWARD_BATCH_WRITES_MAX) throw new PeerInputError(`a batch of ${raw.length} forwarded writes (at most ${FORWARD_BATCH_WRITES_MAX})`);
  for (let index = 0; index < raw.length; index += 1) {
    const write: unknown = raw[index];
    if (typeof write !== 'object' || write === null || Array.isArray(write)) throw new PeerInputError(`forwarded write ${index} must be an object`);
    const keys = Object.keys(write);
    const { command, user } = write as { command?: unknown; user?: unknown };
    if (keys.length !== 2 || command === undefined || user === undefined) throw new PeerInputError(`forwarded write ${index} must be exactly {command, user}`);
    if (user !== null && (typeof user !== 'string' || user.length === 0 || user.length > USER_NAME_CHARS_MAX)) {
      throw new PeerInputError(`forwarded write ${index}: user must be null or a name of 1 to ${USER_NAME_CHARS_MAX} characters`);
    }
    try {
      checkCommandWithin(command, body_limit_bytes);
    } catch (error) {
      throw new PeerInputError(`forwarded write ${index}: ${(error as Error).message}`);
    }
  }
  return raw as ForwardedWrite[];
}
