/**
 * The applied state of a node: the engine plus the hash chain over every entry
 * applied so far. `state_hash = sha256(previous state_hash, entry)`; two nodes at
 * the same applied_index with different hashes have diverged.
 *
 * A snapshot image is the engine's image behind a small header that records
 * the applied index and state hash it was taken at, so a node restored from it
 * continues the same chain.
 */
import { createHash } from 'node:crypto';
import type { ApplyContext, ApplyResult, Command } from '../../database/commands';
import { Engine } from '../../database/engine';
import type { EngineLimits } from '../../database/limits';
import type { Entry } from '../replication/messages';

/** What a log entry carries: a command and the context the master fixed for it. */
export interface LogPayload {
  command: Command;
  context: ApplyContext;
}

const GENESIS_HASH = '0'.repeat(64);
const HEADER_LENGTH_BYTES = 4;

export class AppliedState {
  readonly engine: Engine;
  private appliedIndex = 0;
  private stateHash = GENESIS_HASH;

  constructor(limits?: EngineLimits) {
    this.engine = new Engine(limits);
  }

  get applied_index(): number {
    return this.appliedIndex;
  }

  get state_hash(): string {
    return this.stateHash;
  }

  /** Applies one committed entry; returns the engine's result (null for the no-op). */
  apply(entry: Entry<LogPayload>): ApplyResult | null {
    if (entry.index !== this.appliedIndex + 1) {
      throw new Error(`apply out of order: entry ${entry.index} after ${this.appliedIndex}`);
    }
    const result = entry.data === null ? null : this.engine.apply(entry.data.command, entry.data.context);
    this.stateHash = createHash('sha256')
      .update(this.stateHash)
      .update(JSON.stringify([entry.index, entry.term, entry.data]))
      .digest('hex');
    this.appliedIndex = entry.index;
    return result;
  }

  /** The snapshot image as parts to write in order, so the database images are not copied again. */
  snapshotParts(): Uint8Array[] {
    const header = Buffer.from(JSON.stringify({ applied_index: this.appliedIndex, state_hash: this.stateHash }));
    const length = Buffer.alloc(HEADER_LENGTH_BYTES);
    length.writeUInt32BE(header.length);
    return [length, header, ...this.engine.snapshotParts()];
  }

  restore(image: Uint8Array): void {
    const buffer = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
    const headerLength = buffer.readUInt32BE(0);
    const header = JSON.parse(buffer.subarray(HEADER_LENGTH_BYTES, HEADER_LENGTH_BYTES + headerLength).toString()) as {
      applied_index: number;
      state_hash: string;
    };
    this.engine.restore(buffer.subarray(HEADER_LENGTH_BYTES + headerLength));
    this.appliedIndex = header.applied_index;
    this.stateHash = header.state_hash;
  }

  close(): void {
    this.engine.close();
  }
}
