/**
 * The node's side of its SQL executor process (executor-process.ts): work
 * goes to it one piece at a time, each with a budget; work that outlives its
 * budget is answered QUERY_TIMEOUT and the process is killed (SIGKILL: SQLite
 * cannot be interrupted otherwise), so no statement can hold the node's
 * thread, its heartbeats or its signals. A new process starts when more work
 * comes, from an image of the node's state.
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
   * Called when the running piece has run `stall_ms` (the work queued behind
   * it may be better off elsewhere: takeQueued) and when a piece ends (this
   * executor may take work from others). The pool's readers use it.
   */
  on_changed?: () => void;
  stall_ms?: number;
}

/** Queued work taken off one executor for another, with the caller's promise and its deadline. */
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

const IDLE_MS = 60_000;
const PENDING_ENTRIES_MAX = 10_000;
const QUEUED_MAX = 1000;
/** Longer than a short read runs: work queued behind one this old may move to an executor that is free. */
const STALL_MS = 25;

export class ProcessSqlExecutor implements SqlExecutor {
  private child: ChildProcess | null = null;
  /** The child answered 'loaded' for the latest image sent. */
  private loaded = false;
  /** The child needs a new image before any entries or work. */
  private stale = true;
  private pending: Entry<LogPayload>[] = [];
  private readonly queue: Job[] = [];
  private current: Job | null = null;
  /** `current` once its stall timer fired (a fact the timer sets: a clock comparison can miss its one chance). */
  private stalledJob: Job | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private jobCount = 0;
  private closed = false;
  /** The image file being written for the child, or written and not yet read by it. */
  private imageFile: string | null = null;

  constructor(private readonly options: ProcessExecutorOptions) {}

  /** Pieces of work running or waiting here. */
  get load(): number {
    return this.queue.length + (this.current === null ? 0 : 1);
  }

  /** Its process is up (work sent here starts no new one). */
  get running(): boolean {
    return this.child !== null;
  }

  /** Its current piece has run (or waited for an image) stall_ms: work queued here waits behind something long. */
  get stalled(): boolean {
    return this.current !== null && this.stalledJob === this.current;
  }

  /** Work queued here, not yet begun, taken off this executor; its deadlines go with it. */
  takeQueued(): MovedWork[] {
    return this.queue.splice(0).map((job) => {
      clearTimeout(job.timer ?? undefined);
      job.timer = null;
      const { work, timeout_ms, deadline_ms, resolve, reject } = job;
      return { work, timeout_ms, deadline_ms, resolve, reject };
    });
  }

  /** Runs work taken off another executor, within what is left of its wait. */
  adopt(moved: MovedWork): void {
    if (this.closed) return moved.reject(new DdbError('NO_MASTER', 'the node is shutting down'));
    this.enqueue(moved, Math.max(0, moved.deadline_ms - Date.now()));
  }

  query(db_name: string | null, script: string, params: SqlParams | undefined): Promise<unknown> {
    return this.submit({ kind: 'query', db_name, script, ...(params === undefined ? {} : { params }) }, this.options.query_timeout_ms);
  }

  async trial(command: Command, context: ApplyContext, timeout_ms = this.options.trial_timeout_ms): Promise<void> {
    await this.submit({ kind: 'trial', command, context }, timeout_ms);
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
    this.stopStallTimer();
    this.stopChild();
    const stopping = new DdbError('NO_MASTER', 'the node is shutting down');
    for (const job of this.queue.splice(0)) this.settle(job, stopping);
    if (this.current !== null) this.settle(this.current, stopping);
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
    return new Promise((resolve, reject) => this.enqueue({ work, timeout_ms, deadline_ms: Date.now() + timeout_ms, resolve, reject }, timeout_ms));
  }

  private enqueue(moved: MovedWork, wait_ms: number): void {
    this.jobCount += 1;
    const job: Job = { ...moved, id: this.jobCount, timer: null, expected: null };
    // Waiting behind other work counts against the budget too, so the queue cannot grow without end.
    job.timer = setTimeout(() => {
      const index = this.queue.indexOf(job);
      if (index >= 0) this.queue.splice(index, 1);
      this.settle(job, timedOut(job, 'waiting'));
    }, wait_ms);
    job.timer.unref();
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    if (this.current !== null || this.closed) return;
    const job = this.queue.shift();
    if (job === undefined) {
      this.scheduleIdleStop();
      return;
    }
    this.cancelIdleStop();
    this.current = job;
    const on_changed = this.options.on_changed;
    if (on_changed !== undefined) {
      this.stallTimer = setTimeout(() => {
        this.stallTimer = null;
        this.stalledJob = job;
        on_changed();
      }, this.options.stall_ms ?? STALL_MS);
      this.stallTimer.unref();
    }
    clearTimeout(job.timer ?? undefined);
    job.timer = null;
    const child = this.child ?? this.startChild();
    if (this.stale) {
      this.loaded = false;
      this.stale = false;
      this.pending = [];
      this.sendImage(child);
    }
    // The image's load is not counted against the job: a large database takes long to copy, whatever the query.
    if (this.loaded) this.dispatch(child, job);
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
        this.stopChild();
        this.finishCurrent(new DdbError('INTERNAL', `the SQL executor could not be given this node's data: ${(error as Error).message}`));
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
    job.timer = setTimeout(() => {
      this.options.logger.warn('SQL stopped: it ran past its budget', { kind: job.work.kind, budget_ms: job.timeout_ms });
      this.stopChild();
      this.finishCurrent(timedOut(job, 'running'));
    }, job.timeout_ms);
    job.timer.unref();
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
      if (this.current !== null && this.child !== null) this.dispatch(this.child, this.current);
      return;
    }
    const job = this.current;
    if (job === null || job.id !== message.id) return;
    const expected = job.expected;
    const got = { applied_index: message.applied_index, state_hash: message.state_hash, content_hash: message.content_hash };
    if (expected !== null && (expected.applied_index !== got.applied_index || expected.state_hash !== got.state_hash || expected.content_hash !== got.content_hash)) {
      // Its copy is not the node's: whatever it answered may be wrong. Start again from an image.
      this.options.logger.error('the SQL executor diverged from the node; restarting it', { expected, got });
      this.stopChild();
      this.finishCurrent(new DdbError('INTERNAL', 'the SQL executor diverged from this node; retry'));
      return;
    }
    // A trial's own SQL error is apply's too: the write goes to the log and fails the same way on every node.
    if (job.work.kind === 'trial') return this.finishCurrent({ value: undefined });
    this.finishCurrent(message.result.ok ? { value: message.result.value } : errorFromBody(message.result.error));
  }

  private finishCurrent(outcome: { value: unknown } | DdbError): void {
    const job = this.current;
    if (job === null) return;
    this.current = null;
    this.stalledJob = null;
    this.stopStallTimer();
    this.settle(job, outcome);
    this.pump();
    this.options.on_changed?.();
  }

  private stopStallTimer(): void {
    if (this.stallTimer !== null) clearTimeout(this.stallTimer);
    this.stallTimer = null;
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
      this.child = null;
      this.removeImageFile();
      this.options.logger.error('the SQL executor process ended', { code, signal });
      // Before the work was sent (while it loaded the image), the work has no part in it.
      const sent = this.current?.expected !== null && this.current?.expected !== undefined;
      this.finishCurrent(sent ? new ExecutorEnded(code, signal) : new DdbError('INTERNAL', `the SQL executor ended while loading this node's data (code ${String(code)}, signal ${String(signal)}); retry`));
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
    this.invalidate();
    this.removeImageFile();
    this.cancelIdleStop();
    if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  private scheduleIdleStop(): void {
    if (this.child === null || this.idleTimer !== null) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.current === null && this.queue.length === 0) this.stopChild();
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
