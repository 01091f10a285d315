/**
 * Where a write is proposed. On the master it becomes a log entry with the
 * context the master fixes for it (its clock reading and a random seed), and
 * its client waits until the entry is applied; a slave forwards it to the
 * master in batches (forward-queue.ts) and relays the answer. A privileged
 * write (a schema change) is refused by a slave with NOT_MASTER, which the
 * HTTP layer turns into a redirect.
 */
import type { ApplyContext, Command } from '../../database/commands';
import { ANONYMOUS, type Caller } from '../../handlers/service';
import { DdbError, errorFromBody } from '../../utils/errors';
import type { Logger } from '../../utils/logger';
import type { Replica } from '../replication/replica';
import type { LogPayload } from './applied-state';
import type { Clock } from './clock';
import type { ForwardQueue } from './forward-queue';
import type { MasterWait } from './master-wait';
import { failureOf } from './peer-answers';
import type { ForwardAnswer, ForwardedWrite } from './peer-transport';
import { type ProposalWaiters, noMaster } from './waiters';

export interface WritePathParts {
  id: number;
  replica: Replica<LogPayload>;
  clock: Clock;
  masters: MasterWait;
  proposals: ProposalWaiters;
  forwarded: ForwardQueue;
  write_timeout_ms: number;
  logger: Logger;
  randomSeed(): number;
  masterUrl(id: number): string | null;
  /** The master's check of a forwarded write's user (throws UNAUTHENTICATED or FORBIDDEN); open clusters allow all. */
  authorize(caller: Caller, command: Command): void;
  /** Runs a SQL write once and undoes it; rejects when it ran past its budget (sql-executor/). */
  trial(command: Command, context: ApplyContext): Promise<void>;
  scheduleReady(): void;
}

export class WritePath {
  constructor(private readonly parts: WritePathParts) {}

  private deadlineMs(): number {
    return this.parts.clock.now_ms() + this.parts.write_timeout_ms;
  }

  async write(command: Command, caller: Caller = ANONYMOUS): Promise<unknown> {
    const deadline_ms = this.deadlineMs();
    for (;;) {
      const master = await this.parts.masters.master(deadline_ms);
      if (master === this.parts.id) return this.proposeLocal(command, deadline_ms);
      const answer = await this.forwardWrite(master, { command, user: caller.user }, deadline_ms);
      if (answer !== 'retry') return answer.value;
    }
  }

  async writeAsMaster(command: Command, _caller: Caller = ANONYMOUS): Promise<unknown> {
    const deadline_ms = this.deadlineMs();
    const master = await this.parts.masters.master(deadline_ms);
    if (master !== this.parts.id) {
      const url = this.parts.masterUrl(master);
      throw new DdbError('NOT_MASTER', `node ${this.parts.id} is a slave; this operation runs on the master, node ${master}`, { master: url });
    }
    return this.proposeLocal(command, deadline_ms);
  }

  /**
   * A slave's batch of forwarded writes: each checked for its user again and
   * proposed on its own, with its own answer, all answered together.
   */
  proposeForwarded(writes: ForwardedWrite[]): Promise<ForwardAnswer[]> {
    const deadline_ms = this.deadlineMs();
    const proposed = writes.map(({ command, user }) =>
      Promise.resolve()
        .then(() => this.parts.authorize({ user }, command))
        .then(() => this.proposeLocal(command, deadline_ms))
        .then(
        (value): ForwardAnswer => ({ ok: true, value }),
        (error: unknown) => failureOf(error, this.parts.logger),
      ),
    );
    return Promise.all(proposed);
  }

  /** Proposes on this node, which must be the master; resolves with the engine's result. */
  private async proposeLocal(command: Command, deadline_ms: number): Promise<unknown> {
    const { replica, clock, proposals } = this.parts;
    const context = { timestamp_ms: clock.now_ms(), seed: this.parts.randomSeed() };
    // SQL may run for ever (a recursive CTE) or long enough to stall every node that
    // applies it: it enters the log only after a trial run ended within budget.
    const tried = command.type === 'sql';
    if (tried) await this.parts.trial(command, context);
    const proposal = replica.propose({ command, context, ...(tried ? { tried } : {}) });
    if (!proposal.ok) {
      if (proposal.reason === 'busy') throw noMaster('the master has too many uncommitted writes; retry');
      const master = replica.masterId();
      throw new DdbError('NOT_MASTER', `node ${this.parts.id} is no longer the master`, { master: master === null ? null : this.parts.masterUrl(master) });
    }
    this.parts.scheduleReady();
    const result = await proposals.wait(proposal.index, proposal.term, Math.max(1, deadline_ms - clock.now_ms()));
    if (result === null) throw new Error(`proposal ${proposal.index} applied as a no-op`);
    if (!result.ok) throw errorFromBody(result.error);
    return result.value;
  }

  private async forwardWrite(master: number, write: ForwardedWrite, deadline_ms: number): Promise<{ value: unknown } | 'retry'> {
    let answer;
    try {
      answer = await this.parts.forwarded.forward(master, write, deadline_ms);
    } catch (error) {
      // Refused: the request never reached the master, so it is safe to retry
      // once another master is known. Anything else may have been applied.
      if ((error as { code?: string }).code === 'ECONNREFUSED') {
        await this.parts.masters.otherThan(master, deadline_ms);
        return 'retry';
      }
      throw noMaster(`lost contact with the master (node ${master}); the write may or may not have been applied`);
    }
    if (answer.ok) return { value: answer.value };
    if (answer.error.code === 'NOT_MASTER') {
      await this.parts.masters.otherThan(master, deadline_ms);
      return 'retry';
    }
    throw errorFromBody(answer.error);
  }
}
