/**
 * Where a strong read waits. A local read needs nothing; a strong one needs a
 * read index (Raft thesis §6.4): on the master, the commit index once a round
 * of heartbeats confirms a majority still follows it; on a slave, one the
 * master confirmed after the read began (shared between concurrent reads,
 * shared-read-index.ts). The read is then served once this node has applied
 * that far.
 */
import { DdbError, errorFromBody } from '../../utils/errors';
import type { Logger } from '../../utils/logger';
import type { ReadState } from '../replication/messages';
import type { Replica } from '../replication/replica';
import type { LogPayload } from './applied-state';
import type { Clock } from './clock';
import type { MasterWait } from './master-wait';
import { failureOf } from './peer-answers';
import type { ReadIndexAnswer } from './peer-transport';
import type { SharedReadIndex } from './shared-read-index';
import { AppliedIndexWaiters, noMaster } from './waiters';

export interface ReadPathParts {
  id: number;
  replica: Replica<LogPayload>;
  clock: Clock;
  masters: MasterWait;
  remoteReads: SharedReadIndex;
  read_timeout_ms: number;
  logger: Logger;
  appliedIndex(): number;
  scheduleReady(): void;
}

export class ReadPath {
  private readonly appliedWaiters = new AppliedIndexWaiters();
  private readonly confirmations = new Map<string, (index: number) => void>();
  private request_count = 0;

  constructor(private readonly parts: ReadPathParts) {}

  async readBarrier(consistency: 'local' | 'strong'): Promise<void> {
    if (consistency === 'local') return;
    const deadline_ms = this.parts.clock.now_ms() + this.parts.read_timeout_ms;
    for (;;) {
      const master = await this.parts.masters.master(deadline_ms);
      const index = master === this.parts.id ? await this.confirmReadIndex(deadline_ms) : await this.remoteReadIndex(master, deadline_ms);
      if (index === 'retry') continue;
      await this.parts.masters.withDeadline(this.appliedWaiters.waitFor(index, this.parts.appliedIndex()), deadline_ms, 'read');
      return;
    }
  }

  /** A slave's read-index request, answered by this node as master. */
  answerReadIndex(): Promise<ReadIndexAnswer> {
    return this.confirmReadIndex(this.parts.clock.now_ms() + this.parts.read_timeout_ms).then(
      (index) => (index === 'retry' ? failureOf(new DdbError('NOT_MASTER', 'not the master'), this.parts.logger) : { ok: true, index }),
      (error: unknown) => failureOf(error, this.parts.logger),
    );
  }

  /** ReadIndex on the master: the commit index once a majority confirmed this node is still master. */
  async confirmReadIndex(deadline_ms: number): Promise<number | 'retry'> {
    for (;;) {
      if (this.parts.masters.current() !== this.parts.id) return 'retry';
      this.request_count += 1;
      const request_id = `${this.parts.id}-${this.request_count}`;
      const accepted = this.parts.replica.readIndex(request_id);
      if (!accepted.ok) {
        if (accepted.reason === 'busy') throw noMaster('too many strong reads in flight; retry');
        // A new master must commit its first entry before it can answer reads.
        await this.parts.masters.next(deadline_ms);
        continue;
      }
      this.parts.scheduleReady();
      const index = new Promise<number>((resolve) => this.confirmations.set(request_id, resolve));
      try {
        return await this.parts.masters.withDeadline(index, deadline_ms, 'read');
      } finally {
        this.confirmations.delete(request_id);
      }
    }
  }

  /** A pass confirmed these read indexes. */
  confirmed(states: ReadState[]): void {
    for (const state of states) this.confirmations.get(state.request_id)?.(state.index);
  }

  /** A pass applied entries up to `applied_index`: reads waiting for it may go. */
  applied(applied_index: number): void {
    this.appliedWaiters.applied(applied_index);
  }

  private async remoteReadIndex(master: number, deadline_ms: number): Promise<number | 'retry'> {
    let answer;
    try {
      answer = await this.parts.remoteReads.readIndex(master, deadline_ms);
    } catch {
      await this.parts.masters.otherThan(master, deadline_ms);
      return 'retry';
    }
    if (answer.ok) return answer.index;
    if (answer.error.code === 'NOT_MASTER') {
      await this.parts.masters.otherThan(master, deadline_ms);
      return 'retry';
    }
    throw errorFromBody(answer.error);
  }
}
