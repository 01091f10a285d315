/**
 * The node's side of its SQL executor process (executor-process.ts): work
 * goes to it in order, each piece with a budget that starts when the piece
 * before it answers (up to pipeline_max pieces are sent ahead, so the process
 * does not wait a round trip between two); work that outlives its budget is
 * answered QUERY_TIMEOUT and the process is killed (SIGKILL: SQLite cannot be
 * interrupted otherwise), so no statement can hold the node's thread, its
 * heartbeats or its signals. A new process starts when more work comes, from
 * an image of the node's state, and runs again what was sent behind the
 * killed piece.
 *
 * The executor follows the node lazily: it exists only while there is SQL to
 * run (it ends after `idle_ms` without work, giving its memory back), it
 * starts from a snapshot image of the node's applied state, and it is sent the
 * entries the node applied since just before the next piece of work, so a
 * node that serves no SQL pays nothing per write. When too many entries
 * pile up between two pieces of work, a fresh image replaces them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApplyContext, Command, SqlParams } from '../../../database/commands';
import { DdbError, errorFromBody } from '../../../utils/errors';
import type { Logger } from '../../../utils/logger';
import type { Entry } from '../../replication/messages';
import type { AppliedState, LogPayload } from '../applied-state';
import type { FromExecutor, ToExecutor, Work } from './executor-messages';
import { ExecutorEnded, StatementStopped, type SqlExecutor } from './sql-executor';
import { bytesOf, droppedImage } from '../large-garbage';

export interface ProcessExecutorOptions {
  state: AppliedState;
  logger: Logger;
  /** A read's budget (statement_timeout_ms). */
  query_timeout_ms: number;
  /** A write's trial budget: every node applies the write on its main thread, so it is kept below the fail-over timeout. */
  trial_timeout_ms: number;
  /** The executor ends after this long without work. */
  idle_ms?: number;
  /** Beyond this many entries applied between two pieces of work, a new image is cheaper than the entries. */
  pending_entries_max?: number;
  /** Pieces of work waiting beyond this are refused at once. */
  queued_max?: number;
  /**
   * Pieces of work sent to the process before the one it runs has answered
   * (1: one at a time). More saves the process waiting a round trip between
   * two pieces, which was most of a short read's cost, but a piece sent behind
   * a long one waits for it: see `stalled`.
   */
  pipeline_max?: number;
  /**
   * Called when the running piece has run `stall_ms` and work waits behind
   * it here (sent or queued): that work is taken off this executor, its
   * answers from here dropped, and given to this callback to run elsewhere
   * (the pool's other reader). Without it, that work waits its turn.
   */
  on_stalled?: (work: MovedWork[]) => void;
  stall_ms?: number;
}

/** Work taken off a stalled executor, with the caller's promise and its deadline. */
export interface MovedWork {
  work: Work;
  timeout_ms: number;
  deadline_ms: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Job extends MovedWork {
  id: number;
  timer: NodeJS.Timeout | null;
  /** The node's applied index and state hash when the job was sent: the executor's answer must match them. */
  expected: { applied_index: number; state_hash: string; content_hash: string } | null;
}

/** A piece of work the process was sent; `job` null once no one waits for its answer here (moved, or timed out waiting). */
interface Sent {
  id: number;
  job: Job | null;
  timeout_ms: number;
}

const IDLE_MS = 60_000;
const PENDING_ENTRIES_MAX = 10_000;
const QUEUED_MAX = 1000;
/** Longer than a short read runs, short enough that work moved off a long one is hardly delayed. */
const STALL_MS = 25;

export class ProcessSqlExecutor implements SqlExecutor {
  private child: ChildProcess | null = null;
  /** The child answered 'loaded' for the latest image sent. */
  private loaded = false;
  /** The child needs a new image before any entries or work. */
  private stale = true;
  private pending: Entry<LogPayload>[] = [];
  private readonly queue: Job[] = [];
  /** The job the child's image is being loaded for: sent first once it is loaded (the load is not counted against it). */
  private loadingFor: Job | null = null;
  /** What the child was sent and has not answered, in the order it runs it: the first is running. */
  private sent: Sent[] = [];
  /** The first of `sent` runs past its budget (kill), or past stall_ms (move the work behind it). */
  private headTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private headStalled = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private jobCount = 0;
  private closed = false;
  /** The image file being written for the child, or written and not yet read by it. */
  private imageFile: string | null = null;

  constructor(private readonly options: ProcessExecutorOptions) {}

  /** Pieces of work running or waiting here. */
  get load(): number {
    return this.queue.length + (this.loadingFor === null ? 0 : 1) + this.sent.filter((sent) => sent.job !== null).length;
  }

  /** Its process is up (work sent here starts no new one). */
  get running(): boolean {
    return this.child !== null;
  }

  /** What it runs has run past stall_ms: work sent here now would wait behind it. */
  get stalled(): boolean {
    return this.headStalled;
  }

  query(db_name: string | null, script: string, params: SqlParams | undefined): Promise<unknown> {
    return this.submit({ kind: 'query', db_name, script, ...(params === undefined ? {} : { params }) }, this.options.query_timeout_ms);
  }

  async trial(command: Command, context: ApplyContext, timeout_ms = this.options.trial_timeout_ms): Promise<void> {
    await this.submit({ kind: 'trial', command, context }, timeout_ms);
  }

  /** Runs work moved off another executor, within what is left of its budget. */
  adopt(moved: MovedWork): void {
    if (this.closed) return moved.reject(new DdbError('NO_MASTER', 'the node is shutting down'));
    this.enqueue(moved);
  }

  applied(entry: Entry<LogPayload>): void {
    if (this.child === null || this.stale) return;
    this.pending.push(entry);
    if (this.pending.length > (this.options.pending_entries_max ?? PENDING_ENTRIES_MAX)) this.invalidate();
  }

  restored(): void {
    this.invalidate();
  }

  close(): void {
    this.closed = true;
    const waiting = this.takeWaiting();
    const head = this.sent[0]?.job ?? null;
    this.sent = [];
    this.stopChild();
    const stopping = new DdbError('NO_MASTER', 'the node is shutting down');
    for (const job of [...(head === null ? [] : [head]), ...waiting]) this.settle(job, stopping);
  }

  private invalidate(): void {
    this.stale = true;
    this.pending = [];
  }

  private submit(work: Work, timeout_ms: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new DdbError('NO_MASTER', 'the node is shutting down'));
    if (this.queue.length >= (this.options.queued_max ?? QUEUED_MAX)) {
      return Promise.reject(new DdbError('QUERY_TIMEOUT', `${this.queue.length} SQL statements are already waiting on this node; retry later`));
    }
    return new Promise((resolve, reject) => this.enqueue({ work, timeout_ms, deadline_ms: Date.now() + timeout_ms, resolve, reject }));
  }

  private enqueue(moved: MovedWork): void {
    this.jobCount += 1;
    const job: Job = { ...moved, id: this.jobCount, timer: null, expected: null };
    this.waitTimer(job);
    this.queue.push(job);
    this.pump();
  }

  /** Waiting, in the queue or sent behind other work, counts against the budget too, so the queue cannot grow without end. */
  private waitTimer(job: Job): void {
    clearTimeout(job.timer ?? undefined);
    job.timer = setTimeout(() => {
      const index = this.queue.indexOf(job);
      if (index >= 0) this.queue.splice(index, 1);
      for (const sent of this.sent) if (sent.job === job) sent.job = null;
      this.settle(job, timedOut(job, 'waiting'));
    }, Math.max(0, job.deadline_ms - Date.now()));
    job.timer.unref();
  }

  private pump(): void {
    if (this.closed) return;
    if (this.queue.length === 0 && this.loadingFor === null && this.sent.length === 0) {
      this.scheduleIdleStop();
      return;
    }
    this.cancelIdleStop();
    if (this.queue.length === 0 && this.loadingFor === null) return;
    const child = this.child ?? this.startChild();
    if (this.stale) {
      this.loaded = false;
      this.stale = false;
      this.pending = [];
      this.sendImage(child);
    }
    if (!this.loaded) {
      // The image's load is not counted against the job: a large database takes long to copy, whatever the query.
      if (this.loadingFor === null) {
        this.loadingFor = this.queue.shift() as Job;
        clearTimeout(this.loadingFor.timer ?? undefined);
        this.loadingFor.timer = null;
      }
      return;
    }
    if (this.loadingFor !== null) {
      const job = this.loadingFor;
      this.loadingFor = null;
      this.dispatch(child, job);
    }
    const pipeline_max = Math.max(1, this.options.pipeline_max ?? 1);
    while (this.queue.length > 0 && this.sent.length < pipeline_max && !this.headStalled) this.dispatch(child, this.queue.shift() as Job);
  }

  /**
   * Writes the node's image to a file for the child (off the node's thread;
   * the image's parts are not copied into one buffer), then tells the child
   * to load it. Entries the node applies meanwhile wait in `pending`.
   */
  private sendImage(child: ChildProcess): void {
    const { limits } = this.options.state;
    const parts = this.options.state.snapshotParts();
    this.removeImageFile();
    load_count += 1;
    const file = path.join(imageDirectory(), `image-${load_count}`);
    this.imageFile = file;
    const bytes = bytesOf(parts);
    writeParts(file, parts).then(
      () => {
        droppedImage(bytes);
        if (this.child !== child || this.imageFile !== file) return void fs.rm(file, { force: true }, () => undefined);
        this.send(child, { type: 'load', image_file: file, data_check: this.options.state.data_check, ...(limits === undefined ? {} : { limits }) });
      },
      (error: unknown) => {
        fs.rm(file, { force: true }, () => undefined);
        if (this.child !== child || this.imageFile !== file) return;
        this.options.logger.error('could not write the image for the SQL executor', { file, error: (error as Error).message });
        const job = this.loadingFor;
        this.loadingFor = null;
        // Work the child was running on its old image had no part in this: it runs again on the next child.
        const running = this.sent.flatMap((sent) => (sent.job === null ? [] : [sent.job]));
        this.sent = [];
        this.stopChild();
        this.requeue(running);
        if (job !== null) this.settle(job, new DdbError('INTERNAL', `the SQL executor could not be given this node's data: ${(error as Error).message}`));
        this.pump();
      },
    );
  }

  private removeImageFile(): void {
    if (this.imageFile !== null) fs.rm(this.imageFile, { force: true }, () => undefined);
    this.imageFile = null;
  }

  private dispatch(child: ChildProcess, job: Job): void {
    if (this.pending.length > 0) this.send(child, { type: 'apply', entries: this.pending.splice(0) });
    const { applied_index, state_hash, content_hash } = this.options.state;
    job.expected = { applied_index, state_hash, content_hash };
    this.send(child, { type: 'work', id: job.id, work: job.work });
    this.sent.push({ id: job.id, job, timeout_ms: job.timeout_ms });
    if (this.sent.length === 1) this.startHead();
  }

  /** The first of `sent` is now running in the child: its budget starts. */
  private startHead(): void {
    this.clearHeadTimers();
    const head = this.sent[0];
    if (head === undefined) return;
    if (head.job !== null) {
      clearTimeout(head.job.timer ?? undefined);
      head.job.timer = null;
    }
    this.headTimer = setTimeout(() => {
      const kind = head.job?.work.kind ?? 'moved work';
      this.options.logger.warn('SQL stopped: it ran past its budget', { kind, budget_ms: head.timeout_ms });
      const job = head.job;
      this.restartChild();
      if (job !== null) this.settle(job, timedOut(job, 'running'));
      this.pump();
    }, head.timeout_ms);
    this.headTimer.unref();
    if (this.options.on_stalled !== undefined) {
      this.stallTimer = setTimeout(() => this.stall(), this.options.stall_ms ?? STALL_MS);
      this.stallTimer.unref();
    }
  }

  /** The running piece is long: the work behind it goes elsewhere (on_stalled) rather than wait for it. */
  private stall(): void {
    this.stallTimer = null;
    this.headStalled = true;
    const waiting = this.takeWaiting();
    if (waiting.length === 0) return;
    for (const job of waiting) {
      clearTimeout(job.timer ?? undefined);
      job.timer = null;
    }
    this.options.on_stalled?.(waiting.map(({ work, timeout_ms, deadline_ms, resolve, reject }) => ({ work, timeout_ms, deadline_ms, resolve, reject })));
  }

  /** Every job waiting here (behind the running one, sent or not), taken off this executor; their answers from the child are dropped. */
  private takeWaiting(): Job[] {
    const taken: Job[] = [];
    if (this.loadingFor !== null) taken.push(this.loadingFor);
    this.loadingFor = null;
    for (const sent of this.sent.slice(1)) {
      if (sent.job !== null) taken.push(sent.job);
      sent.job = null;
    }
    taken.push(...this.queue.splice(0));
    return taken;
  }

  private clearHeadTimers(): void {
    if (this.headTimer !== null) clearTimeout(this.headTimer);
    if (this.stallTimer !== null) clearTimeout(this.stallTimer);
    this.headTimer = null;
    this.stallTimer = null;
    this.headStalled = false;
  }

  /**
   * Kills the child over its running piece (the caller settles that one);
   * the pieces sent behind it had no part in it and go back to the front of
   * the queue, for the next child.
   */
  private restartChild(): void {
    const behind = this.sent.slice(1).flatMap((sent) => (sent.job === null ? [] : [sent.job]));
    this.sent = [];
    this.stopChild();
    this.requeue(behind);
  }

  /** Jobs that must run again go back to the front of the queue, in order, still within their deadlines. */
  private requeue(jobs: Job[]): void {
    for (const job of jobs) this.waitTimer(job);
    this.queue.unshift(...jobs);
  }

  private answered(message: FromExecutor): void {
    if (message.type === 'loaded') {
      this.imageFile = null; // the child read it and deleted it
      if (this.stale && this.child !== null) {
        // The node's state was replaced (a snapshot, a repair, a refusal) while the child loaded: that image is old.
        this.stale = false;
        this.pending = [];
        this.sendImage(this.child);
        return;
      }
      this.loaded = true;
      this.pump();
      return;
    }
    const head = this.sent[0];
    if (head === undefined || head.id !== message.id) return;
    const job = head.job;
    const expected = job?.expected ?? null;
    const got = { applied_index: message.applied_index, state_hash: message.state_hash, content_hash: message.content_hash };
    if (expected !== null && (expected.applied_index !== got.applied_index || expected.state_hash !== got.state_hash || expected.content_hash !== got.content_hash)) {
      // Its copy is not the node's: whatever it answered may be wrong. Start again from an image.
      this.options.logger.error('the SQL executor diverged from the node; restarting it', { expected, got });
      this.restartChild();
      if (job !== null) this.settle(job, new DdbError('INTERNAL', 'the SQL executor diverged from this node; retry'));
      this.pump();
      return;
    }
    this.sent.shift();
    this.startHead();
    if (job !== null) {
      // A trial's own SQL error is apply's too: the write goes to the log and fails the same way on every node.
      if (job.work.kind === 'trial') this.settle(job, { value: undefined });
      else this.settle(job, message.result.ok ? { value: message.result.value } : errorFromBody(message.result.error));
    }
    this.pump();
  }

  private settle(job: Job, outcome: { value: unknown } | DdbError): void {
    clearTimeout(job.timer ?? undefined);
    job.timer = null;
    if (outcome instanceof DdbError) job.reject(outcome);
    else job.resolve(outcome.value);
  }

  private startChild(): ChildProcess {
    const child = fork(executorScript(), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [],
    });
    this.child = child;
    this.stale = true;
    child.on('message', (message: FromExecutor) => {
      if (this.child === child) this.answered(message);
    });
    child.on('error', (error) => this.options.logger.error('the SQL executor process failed', { error: error.message }));
    child.on('exit', (code, signal) => {
      if (this.child !== child) return; // killed on purpose: already replaced
      this.options.logger.error('the SQL executor process ended', { code, signal });
      const head = this.sent[0]?.job ?? null;
      const loading = this.loadingFor;
      this.loadingFor = null;
      this.restartChild();
      // The running piece ended it; one that waited for the image to load had no part in it.
      if (head !== null) this.settle(head, new ExecutorEnded(code, signal));
      if (loading !== null) this.settle(loading, new DdbError('INTERNAL', `the SQL executor ended while loading this node's data (code ${String(code)}, signal ${String(signal)}); retry`));
      this.pump();
    });
    return child;
  }

  private send(child: ChildProcess, message: ToExecutor): void {
    child.send(message, (error) => {
      if (error !== null && error !== undefined && this.child === child) this.options.logger.warn('could not reach the SQL executor', { error: error.message });
    });
  }

  private stopChild(): void {
    const child = this.child;
    this.child = null;
    this.loaded = false;
    this.clearHeadTimers();
    this.invalidate();
    this.removeImageFile();
    this.cancelIdleStop();
    if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  private scheduleIdleStop(): void {
    if (this.child === null || this.idleTimer !== null) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.sent.length === 0 && this.loadingFor === null && this.queue.length === 0) this.stopChild();
    }, this.options.idle_ms ?? IDLE_MS);
    this.idleTimer.unref();
  }

  private cancelIdleStop(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

/** Numbers the image files of every executor of this process. */
let load_count = 0;

let image_directory: string | null = null;

/**
 * A directory of this process's own for the image files, made by mkdtemp
 * (mode 0700, a name nobody can guess), removed when the process exits; at
 * its making, those of processes killed with SIGKILL are removed.
 */
function imageDirectory(): string {
  if (image_directory !== null) return image_directory;
  removeOrphanImageDirectories();
  const made = fs.mkdtempSync(path.join(os.tmpdir(), `ddb-executor-${process.pid}-`));
  image_directory = made;
  process.once('exit', () => fs.rmSync(made, { recursive: true, force: true }));
  return made;
}

/** Named by a process id that no longer runs; another user's are not ours to remove (rm fails, and that is fine). */
function removeOrphanImageDirectories(): void {
  let names: string[];
  try {
    names = fs.readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const match = /^ddb-executor-(\d+)-/.exec(name);
    if (match === null || Number(match[1]) === process.pid || processRuns(Number(match[1]))) continue;
    fs.rm(path.join(os.tmpdir(), name), { recursive: true, force: true }, () => undefined);
  }
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function writeParts(file: string, parts: Uint8Array[]): Promise<void> {
  const handle = await fs.promises.open(file, 'wx', 0o600);
  try {
    for (const part of parts) {
      for (let offset = 0; offset < part.byteLength; ) offset += (await handle.write(part, offset, part.byteLength - offset)).bytesWritten;
    }
  } finally {
    await handle.close();
  }
}

function timedOut(job: Job, phase: 'waiting' | 'running'): DdbError {
  const what = job.work.kind === 'query' ? 'this read' : "this write's trial run";
  const how = phase === 'running' ? `ran longer than ${job.timeout_ms} ms and was stopped` : `waited longer than ${job.timeout_ms} ms behind other SQL on this node`;
  const message = `${what} ${how}; nothing was changed`;
  return phase === 'running' ? new StatementStopped('QUERY_TIMEOUT', message, { timeout_ms: job.timeout_ms }) : new DdbError('QUERY_TIMEOUT', message, { timeout_ms: job.timeout_ms });
}

/** The compiled executor beside this file; under ts-jest (sources run as .ts) the one the build put in dist/. */
function executorScript(): string {
  const beside = path.join(__dirname, 'executor-process.js');
  if (fs.existsSync(beside)) return beside;
  return path.resolve(__dirname, '../../../dist/src/node/sql-executor/executor-process.js');
}
