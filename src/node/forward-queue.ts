/**
 * A slave's forwarded writes, sent to the master in batches.
 *
 * One HTTP request per forwarded write made the master pay a request's parsing,
 * routing and answering for every write a slave took, on top of the write
 * itself. Here the writes a slave receives in one turn of its event loop leave
 * together, as one request whose answer carries each write's own result, and
 * while FORWARD_BATCHES_IN_FLIGHT_MAX batches are open the next writes queue
 * and leave with the next batch. A batch of one is the quiet case: the write
 * waits one event-loop turn, no longer.
 *
 * Each write keeps its own answer: the master proposes each one separately,
 * so one write's error (ROW_EXISTS, say) is that write's alone. A failed
 * request (refused, reset, timed out) fails every write in it, with the error
 * that says whether it reached the master (see DdbNode.forwardWrite).
 */
import type { Clock } from './clock';
import type { ForwardAnswer, ForwardedWrite } from './peer-transport';
import { FORWARD_BATCH_BYTES_MAX, valueBytes } from './payload-bytes';

export const FORWARD_BATCHES_IN_FLIGHT_MAX = 4;
export const FORWARD_BATCH_WRITES_MAX = 256;

/** Sends one batch to the master `master_id`; resolves with one result per command, in order. */
export type SendBatch = (master_id: number, writes: ForwardedWrite[], timeout_ms: number) => Promise<ForwardAnswer[]>;

interface Pending {
  write: ForwardedWrite;
  deadline_ms: number;
  resolve: (result: ForwardAnswer) => void;
  reject: (error: unknown) => void;
}

interface MasterQueue {
  queued: Pending[];
  in_flight: number;
  scheduled: boolean;
}

export class ForwardQueue {
  private readonly masters = new Map<number, MasterQueue>();

  constructor(
    private readonly sendBatch: SendBatch,
    private readonly clock: Pick<Clock, 'now_ms' | 'soon'>,
  ) {}

  /** Forwards `command` to the master `master_id`; rejects with the request's error if the batch failed. */
  forward(master_id: number, write: ForwardedWrite, deadline_ms: number): Promise<ForwardAnswer> {
    const master = this.master(master_id);
    const forwarded = new Promise<ForwardAnswer>((resolve, reject) => master.queued.push({ write, deadline_ms, resolve, reject }));
    if (!master.scheduled) {
      master.scheduled = true;
      // After the I/O of this turn: every write parsed in it joins the batch.
      this.clock.soon(() => {
        master.scheduled = false;
        this.flush(master_id, master);
      });
    }
    return forwarded;
  }

  private master(master_id: number): MasterQueue {
    let master = this.masters.get(master_id);
    if (master === undefined) {
      master = { queued: [], in_flight: 0, scheduled: false };
      this.masters.set(master_id, master);
    }
    return master;
  }

  private flush(master_id: number, master: MasterQueue): void {
    while (master.queued.length > 0 && master.in_flight < FORWARD_BATCHES_IN_FLIGHT_MAX) {
      this.sendNext(master_id, master);
    }
  }

  private sendNext(master_id: number, master: MasterQueue): void {
    const now = this.clock.now_ms();
    const batch = master.queued.splice(0, batchLength(master.queued)).filter((pending) => {
      // Queued past its deadline behind a slow master: never sent, so the write is answered now.
      if (pending.deadline_ms > now) return true;
      pending.reject(new Error('the write waited for the master past its deadline and was not sent'));
      return false;
    });
    if (batch.length === 0) return;
    master.in_flight += 1;
    // The master answers once every write of the batch is applied: the socket may stay silent until the latest deadline.
    const timeout_ms = Math.max(...batch.map((pending) => pending.deadline_ms)) - now;
    const writes = batch.map((pending) => pending.write);
    this.sendBatch(master_id, writes, timeout_ms)
      .then((results) => {
        if (results.length !== batch.length) throw new Error(`the master answered ${results.length} results for ${batch.length} writes`);
        batch.forEach((pending, index) => pending.resolve(results[index] as ForwardAnswer));
      })
      .catch((error: unknown) => {
        for (const pending of batch) pending.reject(error);
      })
      .finally(() => {
        master.in_flight -= 1;
        this.flush(master_id, master);
      });
  }
}

/** How many of the queued writes the next batch takes: up to the count and the bytes (payload-bytes.ts), at least one. */
function batchLength(queued: Pending[]): number {
  let bytes = 0;
  let count = 0;
  for (const pending of queued) {
    if (count === FORWARD_BATCH_WRITES_MAX) break;
    bytes += valueBytes(pending.write.command);
    if (count > 0 && bytes > FORWARD_BATCH_BYTES_MAX) break;
    count += 1;
  }
  return count;
}
