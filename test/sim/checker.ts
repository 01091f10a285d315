/**
 * The simulator's referee. It sees every role, every persisted entry, every
 * applied entry and every read, and throws InvariantViolation the moment a
 * Raft safety property breaks:
 *
 * - election safety: at most one master per term, ever;
 * - log matching: two logs with an entry of the same index and term hold the
 *   same data there and the same term before it (so, inductively, the same prefix);
 * - leader completeness: a master's log holds every entry committed in an earlier term;
 * - state machine safety: every node applies one global sequence, with the same hash chain;
 * - durability: an entry is on the disks of a majority when it is first applied,
 *   so no crash can lose it; a node's term never goes back across crashes;
 * - linearizable reads: a confirmed read index covers every entry applied anywhere
 *   before the read was asked.
 */
import type { Entry } from '../../src/replication/messages';
import { majoritySize } from '../../src/replication/quorum';

/** What the checker needs of a node's applied state: where it is, and the hash chain up to there. */
export interface AppliedView {
  applied_index: number;
  applied_term: number;
  state_hash: number | string;
}

export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
}

/** What the checker needs of a node's disk. */
export interface DiskView {
  snapshotIndex(): number;
  /** The term at `index` on disk (the snapshot's last term at its index), or null. */
  termAt(index: number): number | null;
}

interface CommittedEntry {
  term: number;
  data: string | null;
  state_hash: number | string;
  /**
   * The term of the node that applied it first. An entry is first applied by
   * the master that committed it, or later by a node at a higher term (after
   * that master crashed between persisting and applying), so this is at least
   * the term it was committed in: checking masters of later terms is sound.
   */
  commit_term: number;
}

/** A node that is master now, for the leader completeness check. */
export interface MasterView {
  node_id: number;
  term: number;
  disk: DiskView;
}

interface LogPositionRecord {
  previous_term: number;
  data: string | null;
}

export class SimChecker {
  private readonly master_by_term = new Map<number, number>();
  private readonly term_by_node = new Map<number, number>();
  /** committed[index] for index >= 1. */
  private readonly committed: (CommittedEntry | undefined)[] = [undefined];
  private readonly positions = new Map<string, LogPositionRecord>();
  private readonly proposals = new Map<string, { term: number; data: string }>();
  private readonly reads = new Map<string, number>();
  /** Counters for reports. */
  masters_elected = 0;
  reads_confirmed = 0;

  constructor(private readonly node_count: number) {}

  committedCount(): number {
    return this.committed.length - 1;
  }

  committedAt(index: number): CommittedEntry | undefined {
    return this.committed[index];
  }

  /** Called after every step with the stepped node's role and term. */
  observeRole(node_id: number, role: string, term: number, disk: DiskView): void {
    const previous_term = this.term_by_node.get(node_id) ?? 0;
    if (term < previous_term) this.fail(`node ${node_id}: term went back from ${previous_term} to ${term}`);
    this.term_by_node.set(node_id, term);
    if (role !== 'master') return;
    const known = this.master_by_term.get(term);
    if (known === node_id) return;
    if (known !== undefined) this.fail(`election safety: nodes ${known} and ${node_id} are both master of term ${term}`);
    this.master_by_term.set(term, node_id);
    this.masters_elected += 1;
    this.checkCompleteness(node_id, term, disk);
  }

  private checkCompleteness(node_id: number, term: number, disk: DiskView): void {
    for (let index = disk.snapshotIndex() + 1; index <= this.committedCount(); index += 1) {
      this.checkHolds({ node_id, term, disk }, index);
    }
  }

  private checkHolds(master: MasterView, index: number): void {
    const entry = this.committed[index] as CommittedEntry;
    if (entry.commit_term >= master.term || master.disk.snapshotIndex() >= index) return;
    const held = master.disk.termAt(index);
    if (held !== entry.term) {
      this.fail(
        `leader completeness: master ${master.node_id} of term ${master.term} has term ${held} at index ${index}, ` +
          `committed in term ${entry.commit_term} with term ${entry.term}`,
      );
    }
  }

  /** Called for every entry a node persisted, after its disk holds them. */
  persisted(node_id: number, entries: readonly Entry<string>[], disk: DiskView): void {
    for (const entry of entries) {
      const previous_term = disk.termAt(entry.index - 1);
      if (previous_term === null) this.fail(`node ${node_id}: persisted entry ${entry.index} with a gap before it`);
      const key = `${entry.index}:${entry.term}`;
      const known = this.positions.get(key);
      if (known === undefined) {
        this.positions.set(key, { previous_term, data: entry.data });
      } else if (known.previous_term !== previous_term || known.data !== entry.data) {
        this.fail(
          `log matching: node ${node_id} has entry ${key} after term ${previous_term} with ${JSON.stringify(entry.data)}, ` +
            `elsewhere after term ${known.previous_term} with ${JSON.stringify(known.data)}`,
        );
      }
    }
  }

  /**
   * Called for every entry a node applies, with the node's term. `disks` are
   * every node's disk (durability) and `masters` the nodes that are master now
   * (they must hold an entry committed in an earlier term).
   */
  applied(node_id: number, node_term: number, entry: Entry<string>, state: AppliedView, cluster: { disks: readonly DiskView[]; masters: readonly MasterView[] }): void {
    const known = this.committed[entry.index];
    if (known !== undefined) {
      if (known.term !== entry.term || known.data !== entry.data || known.state_hash !== state.state_hash) {
        this.fail(
          `state machine safety: node ${node_id} applied ${entry.index}:${entry.term} ${JSON.stringify(entry.data)} (hash ${state.state_hash}), ` +
            `others ${entry.index}:${known.term} ${JSON.stringify(known.data)} (hash ${known.state_hash})`,
        );
      }
    } else {
      if (entry.index !== this.committed.length) this.fail(`node ${node_id} applied ${entry.index} before ${this.committed.length}`);
      this.committed.push({ term: entry.term, data: entry.data, state_hash: state.state_hash, commit_term: node_term });
      this.checkDurable(entry, cluster.disks);
      for (const master of cluster.masters) this.checkHolds(master, entry.index);
    }
    const proposal = this.proposals.get(`${node_id}:${entry.index}`);
    if (proposal !== undefined && proposal.term === entry.term && proposal.data !== entry.data) {
      this.fail(`node ${node_id}: proposal ${entry.index}:${entry.term} applied as ${JSON.stringify(entry.data)}, proposed ${proposal.data}`);
    }
  }

  private checkDurable(entry: Entry<string>, disks: readonly DiskView[]): void {
    const holders = disks.filter((disk) => disk.snapshotIndex() >= entry.index || disk.termAt(entry.index) === entry.term).length;
    if (holders < majoritySize(this.node_count)) {
      this.fail(`durability: entry ${entry.index}:${entry.term} applied while only ${holders} of ${this.node_count} disks hold it`);
    }
  }

  /** A node restored its state machine from a snapshot (received, or on restart). */
  restored(node_id: number, state: AppliedView): void {
    if (state.applied_index === 0) return;
    const known = this.committed[state.applied_index];
    if (known === undefined) this.fail(`node ${node_id}: snapshot at ${state.applied_index} beyond anything applied`);
    if (known.term !== state.applied_term || known.state_hash !== state.state_hash) {
      this.fail(`node ${node_id}: snapshot at ${state.applied_index} has hash ${state.state_hash}, others ${known.state_hash}`);
    }
  }

  proposed(node_id: number, index: number, term: number, data: string): void {
    this.proposals.set(`${node_id}:${index}`, { term, data });
  }

  readAsked(request_id: string): void {
    this.reads.set(request_id, this.committedCount());
  }

  /** A strong read was served by `node_id` at `applied_index`; `floor` is what had been applied anywhere when it began. */
  readServed(node_id: number, floor: number, applied_index: number): void {
    if (applied_index < floor) {
      this.fail(`linearizability: node ${node_id} served a strong read at index ${applied_index}, but ${floor} was applied before it began`);
    }
    this.reads_confirmed += 1;
  }

  readConfirmed(node_id: number, request_id: string, index: number): void {
    const floor = this.reads.get(request_id);
    if (floor === undefined) this.fail(`node ${node_id}: read state for unknown request ${request_id}`);
    this.reads.delete(request_id);
    if (index < floor) {
      this.fail(`linearizability: node ${node_id} confirmed read ${request_id} at index ${index}, but ${floor} was applied before it was asked`);
    }
    this.reads_confirmed += 1;
  }

  private fail(message: string): never {
    throw new InvariantViolation(message);
  }
}
