/**
 * About how many bytes an entry (or a forwarded write) takes in a peer frame, without encoding it:
 * the replica keeps each append within a byte budget with it (an append of
 * 512 writes near the body limit would otherwise be one JSON text of half a
 * gigabyte, beyond what V8 can make into a string). A string counts its
 * length; JSON may spend up to six bytes on a character, which the budget
 * leaves room for.
 */
import type { Entry } from '../replication/messages';
import type { LogPayload } from './applied-state';

/** Per value: quotes, separators, a key's share, a number's digits. */
const VALUE_OVERHEAD_BYTES = 8;

/** The byte budget of one append beyond its first entry: ×6 for JSON escapes stays far below V8's ~512 MiB string limit. */
export const APPEND_BYTES_MAX = 16 * 1024 * 1024;

/** The same budget for a batch of forwarded writes, which travels as one JSON text too. */
export const FORWARD_BATCH_BYTES_MAX = APPEND_BYTES_MAX;

export function entryBytes(entry: Entry<LogPayload>): number {
  return VALUE_OVERHEAD_BYTES * 4 + (entry.data === null ? 0 : valueBytes(entry.data.command));
}

/** About the bytes of a JSON value's encoding (one escaped character counted as one). */
export function valueBytes(value: unknown): number {
  if (typeof value === 'string') return value.length + VALUE_OVERHEAD_BYTES;
  if (value === null || typeof value !== 'object') return VALUE_OVERHEAD_BYTES;
  let bytes = VALUE_OVERHEAD_BYTES;
  if (Array.isArray(value)) {
    for (const item of value) bytes += valueBytes(item);
    return bytes;
  }
  for (const key in value) bytes += key.length + valueBytes((value as Record<string, unknown>)[key]);
  return bytes;
}
