/**
 * What a log entry of a node may carry (applied-state.ts's LogPayload): null
 * (the no-op), or a command the public API could have made, within the
 * body limit, and the context the master fixed for it. The peer channel
 * checks every entry a peer sends with it (peer-inspector.ts), and apply
 * checks every committed entry with it again.
 */
import { checkCommand, InvalidCommand } from '../../database/command-validation';

export const SEED_MAX = 2 ** 32 - 1;

/** Throws InvalidCommand saying what is wrong with a command, or one over `body_limit_bytes`. */
export function checkCommandWithin(command: unknown, body_limit_bytes: number): void {
  const bytes = checkCommand(command);
  if (bytes > body_limit_bytes) throw new InvalidCommand(`a command of ${bytes} bytes is over the body limit of ${body_limit_bytes}`);
}

/** Throws InvalidCommand unless `data` is null or a {command, context[, tried: true]} that passes. */
export function checkLogPayload(data: unknown, body_limit_bytes: number): void {
  if (data === null) return;
  if (typeof data !== 'object' || Array.isArray(data)) throw new InvalidCommand('an entry must carry null or {command, context}');
  let count = 0;
  for (const key in data) if (Object.prototype.hasOwnProperty.call(data, key)) count += 1;
  const { command, context, tried } = data as { command?: unknown; context?: unknown; tried?: unknown };
  if (count !== (tried === undefined ? 2 : 3) || command === undefined || context === undefined || (tried !== undefined && tried !== true)) {
    throw new InvalidCommand('an entry must carry exactly {command, context} and, for a SQL write tried by the master, tried: true');
  }
  checkContext(context);
  checkCommandWithin(command, body_limit_bytes);
}

function checkContext(context: unknown): void {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) throw new InvalidCommand('an entry context must be an object');
  let count = 0;
  for (const key in context) if (Object.prototype.hasOwnProperty.call(context, key)) count += 1;
  const { timestamp_ms, seed } = context as { timestamp_ms?: unknown; seed?: unknown };
  if (count !== 2 || !Number.isSafeInteger(timestamp_ms)) throw new InvalidCommand('an entry context must be {timestamp_ms, seed} with an integer timestamp');
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > SEED_MAX) throw new InvalidCommand(`an entry seed must be an integer in [0, ${SEED_MAX}]`);
}
