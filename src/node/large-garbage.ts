/**
 * A large image (a compaction's serialized databases, a snapshot received or
 * sent, an executor's copy) is garbage once it is on disk or sent, but V8
 * frees a Buffer's memory only at a major collection, which a node with a
 * small JavaScript heap may not run for a long while: after compacting a
 * 1 GB database a node held 2 GB until then (measured with
 * scripts/measure-catch-up-rss.js). So after dropping an image of at least
 * LARGE_IMAGE_BYTES a node asks for a full collection: some tens of
 * milliseconds on its small heap, against a gigabyte held.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

export const LARGE_IMAGE_BYTES = 64 * 1024 * 1024;

let collect: (() => void) | null | undefined;

/** V8's gc(), exposed at run time (no command-line flag needed); null where that is not allowed. */
function collector(): (() => void) | null {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/** An image of `bytes` was just dropped: collect it after the current turn, once its last references are gone. */
export function droppedImage(bytes: number): void {
  if (bytes < LARGE_IMAGE_BYTES) return;
  setImmediate(() => collector()?.());
}

export function bytesOf(parts: readonly Uint8Array[]): number {
  return parts.reduce((sum, part) => sum + part.byteLength, 0);
}
