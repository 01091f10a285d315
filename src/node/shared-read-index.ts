/**
 * A slave's strong reads share their read-index requests to the master.
 *
 * A strong read on a slave needs an index the master confirmed with a majority
 * after the read began (ReadIndex, Raft thesis §6.4). One request per read made
 * the master answer one HTTP request and one confirmation per read. Here at
 * most one request per master is in flight; the reads that begin meanwhile
 * wait and share the next one. Sharing is safe because every read of a group
 * began before its request left, so the master chooses the index after each
 * of them began (etcd batches its read-index requests the same way).
 */
import type { Clock } from './clock';
import type { ReadIndexAnswer } from './peer-transport';

/** Asks the master `master_id` for a read index; rejects on connection errors. */
export type AskReadIndex = (master_id: number, timeout_ms: number) => Promise<ReadIndexAnswer>;

interface Waiting {
  deadline_ms: number;
  resolve: (result: ReadIndexAnswer) => void;
  reject: (error: unknown) => void;
}

interface MasterReads {
  in_flight: boolean;
  waiting: Waiting[];
}

export class SharedReadIndex {
  private readonly masters = new Map<number, MasterReads>();

  constructor(
    private readonly ask: AskReadIndex,
    private readonly clock: Pick<Clock, 'now_ms'>,
  ) {}

  /** A read index from the master `master_id`, asked for after this call; rejects as `ask` does. */
  readIndex(master_id: number, deadline_ms: number): Promise<ReadIndexAnswer> {
    let master = this.masters.get(master_id);
    if (master === undefined) {
      master = { in_flight: false, waiting: [] };
      this.masters.set(master_id, master);
    }
    const reads = master;
    const result = new Promise<ReadIndexAnswer>((resolve, reject) => reads.waiting.push({ deadline_ms, resolve, reject }));
    if (!reads.in_flight) this.askFor(master_id, reads);
    return result;
  }

  private askFor(master_id: number, reads: MasterReads): void {
    const group = reads.waiting.splice(0);
    reads.in_flight = true;
    const timeout_ms = Math.max(1, Math.max(...group.map((read) => read.deadline_ms)) - this.clock.now_ms());
    this.ask(master_id, timeout_ms)
      .then(
        (result) => group.forEach((read) => read.resolve(result)),
        (error: unknown) => group.forEach((read) => read.reject(error)),
      )
      .finally(() => {
        reads.in_flight = false;
        if (reads.waiting.length > 0) this.askFor(master_id, reads);
      });
  }
}
