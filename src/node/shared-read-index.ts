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
import type { ReadIndexAnswer } from '../replication/transport';

/** Asks the master at `url` for a read index; rejects on connection errors. */
export type AskReadIndex = (url: string, timeout_ms: number) => Promise<ReadIndexAnswer>;

interface Waiting {
  deadline: number;
  resolve: (result: ReadIndexAnswer) => void;
  reject: (error: unknown) => void;
}

interface MasterReads {
  in_flight: boolean;
  waiting: Waiting[];
}

export class SharedReadIndex {
  private readonly masters = new Map<string, MasterReads>();

  constructor(
    private readonly ask: AskReadIndex,
    private readonly now: () => number = Date.now,
  ) {}

  /** A read index from the master at `url`, asked for after this call; rejects as `ask` does. */
  readIndex(url: string, deadline: number): Promise<ReadIndexAnswer> {
    let master = this.masters.get(url);
    if (master === undefined) {
      master = { in_flight: false, waiting: [] };
      this.masters.set(url, master);
    }
    const reads = master;
    const result = new Promise<ReadIndexAnswer>((resolve, reject) => reads.waiting.push({ deadline, resolve, reject }));
    if (!reads.in_flight) this.askFor(url, reads);
    return result;
  }

  private askFor(url: string, reads: MasterReads): void {
    const group = reads.waiting.splice(0);
    reads.in_flight = true;
    const timeout_ms = Math.max(1, Math.max(...group.map((read) => read.deadline)) - this.now());
    this.ask(url, timeout_ms)
      .then(
        (result) => group.forEach((read) => read.resolve(result)),
        (error: unknown) => group.forEach((read) => read.reject(error)),
      )
      .finally(() => {
        reads.in_flight = false;
        if (reads.waiting.length > 0) this.askFor(url, reads);
      });
  }
}
