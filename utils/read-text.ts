/**
 * readText(stream, limit): a stream's bytes as UTF-8 text, up to a limit. Both
 * body readers use it: the public API's (handlers/json-body.ts) and the peers'
 * (src/http/peer-endpoints.ts). Past the limit it stops reading and rejects with
 * TooLarge; what then happens to the connection is the caller's choice.
 */
import type { Readable } from 'node:stream';

export class TooLarge extends Error {
  constructor(readonly limit: number) {
    super(`body larger than ${limit} bytes`);
    this.name = 'TooLarge';
  }
}

export function readText(stream: Readable, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    stream.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        stream.removeAllListeners('data');
        stream.pause();
        reject(new TooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => resolve((chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length)).toString('utf8')));
    stream.on('error', reject);
  });
}
