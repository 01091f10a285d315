/**
 * readText(stream, limit_bytes): a stream's bytes as UTF-8 text, up to a limit. Both
 * body readers use it: the public API's (handlers/json-body.ts) and the peers'
 * (src/http/peer-endpoints.ts). Past the limit it stops reading and rejects with
 * TooLarge; what then happens to the connection is the caller's choice.
 */
import type { Readable } from 'node:stream';

export class TooLarge extends Error {
  constructor(readonly limit_bytes: number) {
    super(`body larger than ${limit_bytes} bytes`);
    this.name = 'TooLarge';
  }
}

export function readText(stream: Readable, limit_bytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let read_bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      read_bytes += chunk.length;
      if (read_bytes > limit_bytes) {
        stream.removeAllListeners('data');
        stream.pause();
        reject(new TooLarge(limit_bytes));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => resolve((chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, read_bytes)).toString('utf8')));
    stream.on('error', reject);
  });
}
