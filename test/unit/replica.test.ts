import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppendEntries, Entry, HardState, Message, ReadState, Snapshot } from '../../src/replication/messages';
import { Replica, type ReplicaConfig, type DurableState } from '../../src/replication/replica';
import { type LoopStorage, ReadyLoop } from '../../src/node/ready-loop';

type Limits = Omit<ReplicaConfig, 'id' | 'peers'>;

const LIMITS: Limits = {
  heartbeat_ticks: 2,
  failover_timeout_ticks: 10,
  election_stagger_ticks: 3,
  entries_per_append_max: 4,
  inflight_appends_max: 2,
  proposals_pending_max: 8,
  read_requests_max: 3,
};

const EMPTY: DurableState<string> = { hard_state: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] };

interface Disk {
  hard_state: HardState;
  snapshot: Snapshot | null;
  entries: Entry<string>[];
}

/**
 * A small cluster with instant, lossless delivery (FIFO) unless a link is cut.
 * Each node runs the node's own ready loop (persist, send, apply) over a disk
 * that is durable at once.
 */
class Harness {
  readonly replicas = new Map<number, Replica<string>>();
  private readonly loops = new Map<number, ReadyLoop<string>>();
  readonly disks = new Map<number, Disk>();
  readonly applied = new Map<number, Entry<string>[]>();
  readonly read_states = new Map<number, ReadState[]>();
  readonly received_snapshots = new Map<number, Snapshot[]>();
  readonly sent: Message<string>[] = [];
  private readonly queue: Message<string>[] = [];
  readonly cut = new Set<string>();

  constructor(
    readonly ids: number[],
    readonly limits: Limits = LIMITS,
  ) {
    for (const id of ids) {
      this.disks.set(id, { hard_state: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] });
      this.start(id);
    }
  }

  replica(id: number): Replica<string> {
    const replica = this.replicas.get(id);
    if (replica === undefined) throw new Error(`node ${id} is down`);
    return replica;
  }

  start(id: number): void {
    const disk = this.disks.get(id) as Disk;
    const restored: DurableState<string> = { hard_state: { ...disk.hard_state }, snapshot: disk.snapshot, entries: [...disk.entries] };
    const replica = new Replica<string>({ id, peers: this.ids, ...this.limits }, restored);
    this.replicas.set(id, replica);
    this.loops.set(id, this.readyLoop(id, replica));
    this.applied.set(id, []);
    this.read_states.set(id, []);
    this.received_snapshots.set(id, []);
    this.settle();
  }

  kill(id: number): void {
    this.replicas.delete(id);
    this.loops.get(id)?.stop();
    this.loops.delete(id);
  }

  cutBoth(first: number, second: number): void {
    this.cut.add(`${first}>${second}`);
    this.cut.add(`${second}>${first}`);
  }

  isolate(id: number): void {
    for (const other of this.ids) if (other !== id) this.cutBoth(id, other);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Runs the node's ready loop: the node shell's own (src/node/ready-loop.ts), over a disk that is durable at once. */
  drain(id: number): void {
    this.loops.get(id)?.schedule();
  }

  private readyLoop(id: number, replica: Replica<string>): ReadyLoop<string> {
    const disk = this.disks.get(id) as Disk;
    const storage: LoopStorage<string> = {
      write: (batch) => {
        if (batch.entries.length > 0) {
          disk.entries.length = (batch.entries[0] as Entry<string>).index - (disk.snapshot?.meta.last_index ?? 0) - 1;
          disk.entries.push(...batch.entries);
        }
        if (batch.hard_state !== null) disk.hard_state = { ...batch.hard_state };
        return false;
      },
      sync: (done) => done(null),
    };
    return new ReadyLoop<string>(
      replica,
      storage,
      {
        soon: (run) => run(),
        passStarted: () => undefined,
        installSnapshot: (snapshot) => {
          disk.snapshot = snapshot;
          disk.entries = [];
          this.received_snapshots.get(id)?.push(snapshot);
        },
        send: (messages) => {
          for (const message of messages) {
            this.sent.push(message);
            this.queue.push(message);
          }
        },
        apply: (entries) => this.applied.get(id)?.push(...entries),
        readsConfirmed: (states) => this.read_states.get(id)?.push(...states),
        passEnded: () => undefined,
        takeBetweenPasses: () => null,
        runEnded: () => undefined,
        failed: (error) => {
          throw error;
        },
      },
      disk.hard_state,
    );
  }

  /** Drains every node and delivers every message until nothing moves. */
  settle(): void {
    for (let round = 0; round < 100_000; round += 1) {
      for (const id of this.replicas.keys()) this.drain(id);
      const message = this.queue.shift();
      if (message === undefined) return;
      const target = this.replicas.get(message.to);
      if (target === undefined || this.cut.has(`${message.from}>${message.to}`)) continue;
      target.step(message);
    }
    throw new Error('the harness does not settle');
  }

  tick(count = 1): void {
    for (let tick = 0; tick < count; tick += 1) {
      for (const replica of this.replicas.values()) replica.tick();
      this.settle();
    }
  }

  /** Ticks until `id` is master; returns the ticks taken. */
  tickUntilMaster(id: number, ticks_max = 500): number {
    for (let tick = 1; tick <= ticks_max; tick += 1) {
      this.tick();
      if (this.replicas.get(id)?.status().role === 'master') return tick;
    }
    throw new Error(`node ${id} did not promote within ${ticks_max} ticks`);
  }

  masterIds(): number[] {
    return [...this.replicas].filter(([, replica]) => replica.status().role === 'master').map(([id]) => id);
  }

  appliedData(id: number): (string | null)[] {
    return (this.applied.get(id) as Entry<string>[]).map((entry) => entry.data);
  }
}

function appendsIn(messages: readonly Message<string>[], to: number): AppendEntries<string>[] {
  return messages.filter((message): message is AppendEntries<string> => message.type === 'append_entries' && message.to === to);
}

describe('Replica configuration', () => {
  test.each<[string, Partial<ReplicaConfig>, RegExp]>([
    ['id outside the peers', { id: 4 }, /not among the peers/],
    ['duplicate peers', { peers: [1, 2, 2] }, /duplicate/],
    ['zero heartbeat', { heartbeat_ticks: 0 }, /heartbeat_ticks/],
    ['timeout not above heartbeat', { failover_timeout_ticks: 2 }, /exceed heartbeat_ticks/],
    ['negative stagger', { election_stagger_ticks: -1 }, /election_stagger_ticks/],
    ['zero inflight', { inflight_appends_max: 0 }, /inflight_appends_max/],
  ])('refuses %s', (_name, change, error) => {
    expect(() => new Replica<string>({ id: 1, peers: [1, 2, 3], ...LIMITS, ...change }, EMPTY)).toThrow(error);
  });

  test('skips restored entries the snapshot already covers, and refuses a gap after it', () => {
    const snapshot: Snapshot = { meta: { last_index: 2, last_term: 1 }, data: new Uint8Array() };
    const covered = [1, 2, 3].map((index) => ({ index, term: 1, data: `e${index}` }));
    const replica = new Replica<string>({ id: 1, peers: [1, 2, 3], ...LIMITS }, { hard_state: { term: 1, vote: null, commit: 3 }, snapshot, entries: covered });
    expect(replica.status()).toMatchObject({ first_index: 3, last_index: 3, commit_index: 3, applied_index: 2 });
    const gap = [{ index: 4, term: 1, data: 'e4' }];
    expect(() => new Replica<string>({ id: 1, peers: [1, 2, 3], ...LIMITS }, { hard_state: { term: 1, vote: null, commit: 2 }, snapshot, entries: gap })).toThrow(
      /entry 4 where 3 belongs/,
    );
  });

  test('refuses a restored log with a term above the hard state', () => {
    const restored: DurableState<string> = { hard_state: { term: 1, vote: null, commit: 0 }, snapshot: null, entries: [{ index: 1, term: 2, data: 'x' }] };
    expect(() => new Replica<string>({ id: 1, peers: [1, 2, 3], ...LIMITS }, restored)).toThrow(/above the term/);
  });
});

describe('a cluster of one', () => {
  test('promotes at once, commits and answers reads without waiting', () => {
    const harness = new Harness([1]);
    expect(harness.replica(1).status()).toMatchObject({ role: 'master', term: 1, commit_index: 1 });
    expect(harness.replica(1).propose('a')).toEqual({ ok: true, index: 2, term: 1 });
    expect(harness.replica(1).readIndex('r1')).toEqual({ ok: true });
    harness.settle();
    expect(harness.appliedData(1)).toEqual([null, 'a']);
    expect(harness.read_states.get(1)).toEqual([{ request_id: 'r1', index: 2 }]);
  });

  test('promotes again after a restart, in a new term, keeping its log', () => {
    const harness = new Harness([1]);
    harness.replica(1).propose('a');
    harness.settle();
    harness.kill(1);
    harness.start(1);
    expect(harness.replica(1).status()).toMatchObject({ role: 'master', term: 2, commit_index: 3 });
    expect(harness.appliedData(1)).toEqual([null, 'a', null]);
  });
});

describe('promotion order', () => {
  test('at a fresh start node 1 promotes after the fail-over timeout; the others follow it', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tick(LIMITS.failover_timeout_ticks - 1);
    expect(harness.masterIds()).toEqual([]);
    harness.tick();
    expect(harness.masterIds()).toEqual([1]);
    expect(harness.replica(2).status()).toMatchObject({ role: 'slave', term: 1, master_id: 1, commit_index: 1 });
    expect(harness.replica(3).status()).toMatchObject({ role: 'slave', term: 1, master_id: 1 });
  });

  test('when the master dies, the lowest-id live slave promotes after about the fail-over timeout', () => {
    const harness = new Harness([1, 2, 3, 4, 5]);
    harness.tickUntilMaster(1);
    harness.tick(LIMITS.heartbeat_ticks);
    harness.kill(1);
    const ticks = harness.tickUntilMaster(2);
    expect(ticks).toBeLessThanOrEqual(LIMITS.failover_timeout_ticks + LIMITS.heartbeat_ticks);
    expect(harness.masterIds()).toEqual([2]);
  });

  test('a slave the master no longer lists as live does not delay the next one', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    harness.kill(2);
    harness.tick(LIMITS.failover_timeout_ticks + LIMITS.heartbeat_ticks); // node 1 drops 2 from its live list
    harness.kill(1);
    // Rank 0 for node 3: no stagger. (It needs node 1 or 2 to vote: bring 2 back without its memory of 1.)
    harness.start(2);
    const ticks = harness.tickUntilMaster(3);
    expect(ticks).toBeLessThanOrEqual(LIMITS.failover_timeout_ticks + LIMITS.heartbeat_ticks);
  });

  test('a slave whose log lacks entries loses to the next one in order', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    harness.cutBoth(1, 2);
    harness.replica(1).propose('only on 1 and 3');
    harness.settle();
    expect(harness.appliedData(3)).toContain('only on 1 and 3');
    harness.kill(1);
    harness.heal();
    harness.tickUntilMaster(3);
    expect(harness.masterIds()).toEqual([3]);
    expect(harness.appliedData(2)).toContain('only on 1 and 3');
  });
});

describe('terms', () => {
  test('a slave cut off from the cluster does not raise its term (pre-vote), and does not depose the master when back', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    harness.isolate(3);
    harness.tick(10 * LIMITS.failover_timeout_ticks);
    expect(harness.replica(3).status()).toMatchObject({ role: 'candidate', pre_candidate: true, term: 1 });
    harness.heal();
    harness.tick(LIMITS.heartbeat_ticks);
    expect(harness.masterIds()).toEqual([1]);
    expect(harness.replica(3).status()).toMatchObject({ role: 'slave', term: 1, master_id: 1 });
  });

  test('a message of a higher term makes the master a slave of that term', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    harness.replica(1).step({ type: 'append_response', from: 2, to: 1, term: 5, success: false, index: 0, hint_index: 0, hint_term: 0, read_context: 0 });
    expect(harness.replica(1).status()).toMatchObject({ role: 'slave', term: 5, master_id: null });
  });

  test('an append of a lower term is answered with the current term', () => {
    const replica = new Replica<string>({ id: 2, peers: [1, 2, 3], ...LIMITS }, { ...EMPTY, hard_state: { term: 4, vote: null, commit: 0 } });
    replica.step({ type: 'append_entries', from: 1, to: 2, term: 3, prev_index: 0, prev_term: 0, entries: [], commit: 0, live_ids: [], read_context: 7 });
    const { messages } = replica.ready();
    expect(messages).toEqual([
      { type: 'append_response', from: 2, to: 1, term: 4, success: false, index: 0, hint_index: 0, hint_term: 0, read_context: 7 },
    ]);
  });

  test('a slave that hears its master ignores vote requests of a higher term (lease)', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    const slave = harness.replica(2);
    const last = slave.status().last_index;
    slave.step({ type: 'request_vote', from: 3, to: 2, term: 9, pre_vote: false, last_index: last + 5, last_term: 9 });
    slave.step({ type: 'request_vote', from: 3, to: 2, term: 9, pre_vote: true, last_index: last + 5, last_term: 9 });
    expect(slave.status().term).toBe(1);
    harness.drain(2);
    const answers = harness.sent.filter((message) => message.type === 'vote_response' && message.from === 2 && message.to === 3);
    expect(answers).toEqual([{ type: 'vote_response', from: 2, to: 3, term: 1, pre_vote: true, granted: false }]);
  });

  test('a voter grants one vote per term, and only to a log at least as up to date', () => {
    const restored: DurableState<string> = { hard_state: { term: 2, vote: null, commit: 0 }, snapshot: null, entries: [{ index: 1, term: 2, data: 'a' }] };
    const voter = new Replica<string>({ id: 1, peers: [1, 2, 3], ...LIMITS }, restored);
    voter.step({ type: 'request_vote', from: 2, to: 1, term: 3, pre_vote: false, last_index: 5, last_term: 1 }); // log behind
    voter.step({ type: 'request_vote', from: 3, to: 1, term: 3, pre_vote: false, last_index: 1, last_term: 2 }); // granted
    voter.step({ type: 'request_vote', from: 2, to: 1, term: 3, pre_vote: false, last_index: 9, last_term: 3 }); // already voted
    const ready = voter.ready();
    expect(ready.hard_state).toEqual({ term: 3, vote: 3, commit: 0 });
    expect(ready.messages.map((message) => (message.type === 'vote_response' ? [message.to, message.granted] : null))).toEqual([
      [2, false],
      [3, true],
      [2, false],
    ]);
  });

  test('a granted pre-vote answers with the asked term and changes nothing', () => {
    const voter = new Replica<string>({ id: 1, peers: [1, 2, 3], ...LIMITS }, EMPTY);
    voter.step({ type: 'request_vote', from: 2, to: 1, term: 1, pre_vote: true, last_index: 0, last_term: 0 });
    const ready = voter.ready();
    expect(ready.hard_state).toBeNull();
    expect(ready.messages).toEqual([{ type: 'vote_response', from: 1, to: 2, term: 1, pre_vote: true, granted: true }]);
  });
});

describe('writes', () => {
  test('a slave refuses proposals; the master commits with a majority and everyone applies in order', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    expect(harness.replica(2).propose('x')).toEqual({ ok: false, reason: 'not_master' });
    harness.cutBoth(1, 3);
    expect(harness.replica(1).propose('a')).toEqual({ ok: true, index: 2, term: 1 });
    harness.settle();
    expect(harness.replica(1).status().commit_index).toBe(2);
    expect(harness.appliedData(1)).toEqual([null, 'a']);
    harness.heal();
    harness.tick(LIMITS.heartbeat_ticks);
    expect(harness.appliedData(3)).toEqual([null, 'a']);
    expect(harness.applied.get(3)?.map((entry) => [entry.index, entry.term])).toEqual([
      [1, 1],
      [2, 1],
    ]);
  });

  test('without a majority nothing commits, and proposals past proposals_pending_max are refused as busy', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    harness.isolate(1);
    for (let count = 0; count < LIMITS.proposals_pending_max; count += 1) expect(harness.replica(1).propose(`p${count}`).ok).toBe(true);
    expect(harness.replica(1).propose('one too many')).toEqual({ ok: false, reason: 'busy' });
    harness.settle();
    expect(harness.replica(1).status().commit_index).toBe(1);
  });

  test('check-quorum: an isolated master steps down after the fail-over timeout; a new master takes over', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    harness.isolate(1);
    harness.tick(LIMITS.failover_timeout_ticks);
    expect(harness.replica(1).status().role).not.toBe('master');
    expect(harness.replica(1).propose('late')).toEqual({ ok: false, reason: 'not_master' });
    harness.tickUntilMaster(2);
    harness.heal();
    harness.tick(LIMITS.heartbeat_ticks);
    expect(harness.replica(1).status()).toMatchObject({ role: 'slave', master_id: 2 });
  });

  test('each role change says why; a slave knows the commit index its master announced', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    expect(harness.replica(1).status().role_reason).toBe('won the election of term 1 with 2 of 3 votes');
    harness.replica(1).propose('x');
    harness.settle();
    expect(harness.replica(3).status().master_commit_index).toBe(harness.replica(1).status().commit_index);
    harness.isolate(1);
    harness.tick(LIMITS.failover_timeout_ticks);
    expect(harness.replica(1).status().role_reason).toBe('lost contact with a majority: heard from 1 of 3 nodes within the fail-over timeout');
    expect(harness.replica(1).status().master_commit_index).toBe(0);
    harness.tickUntilMaster(2);
    expect(harness.replica(2).status().role_reason).toMatch(/^won the election of term [0-9]+ with 2 of 3 votes$/);
  });

  test('a lost proposal is applied with another term at its index', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    harness.isolate(1);
    const lost = harness.replica(1).propose('lost');
    expect(lost).toEqual({ ok: true, index: 2, term: 1 });
    harness.tickUntilMaster(2);
    harness.replica(2).propose('kept');
    harness.heal();
    harness.tick(2 * LIMITS.failover_timeout_ticks);
    const at_index = harness.applied.get(1)?.find((entry) => entry.index === 2);
    // Applied, and by a later master: an index never applied must not pass for one applied with another term.
    expect(at_index?.term).toBeGreaterThan(1);
    expect(harness.appliedData(1)).toContain('kept');
    expect(harness.appliedData(1)).not.toContain('lost');
    expect(harness.appliedData(1)).toEqual(harness.appliedData(2));
  });
});

describe('batching and pipelining', () => {
  function masterWithSlaves(limits: Limits): Replica<string> {
    const harness = new Harness([1, 2, 3], limits);
    harness.tickUntilMaster(1);
    harness.tick(limits.heartbeat_ticks);
    return harness.replica(1);
  }

  test('proposals made before the outbox drains leave as batches of at most entries_per_append_max', () => {
    const master = masterWithSlaves({ ...LIMITS, proposals_pending_max: 100 });
    for (let count = 0; count < 10; count += 1) master.propose(`p${count}`);
    const appends = appendsIn(master.ready().messages, 2);
    master.advance();
    expect(appends.map((append) => append.entries.length)).toEqual([4, 4]); // 2 in flight max; 2 entries wait
    expect(appends.map((append) => append.prev_index)).toEqual([1, 5]);
  });

  test('a slave that answers nothing costs the master at most inflight_appends_max appends per heartbeat', () => {
    const harness = new Harness([1, 2, 3], { ...LIMITS, proposals_pending_max: 1000 });
    harness.tickUntilMaster(1);
    harness.kill(3);
    for (let count = 0; count < 200; count += 1) harness.replica(1).propose(`p${count}`);
    harness.settle();
    const to_dead = harness.sent.filter((message) => message.to === 3 && message.type === 'append_entries' && message.entries.length > 0);
    const before = to_dead.length;
    harness.tick(10 * LIMITS.heartbeat_ticks);
    const after = harness.sent.filter((message) => message.to === 3 && message.type === 'append_entries' && message.entries.length > 0).length;
    expect(after - before).toBeLessThanOrEqual(10);
    expect(harness.replica(1).status().commit_index).toBe(201);
  });

  test('stale or duplicated answers at a full window send at most one append per heartbeat (no storm when the network duplicates)', () => {
    // Issue 12: each such answer freed a slot and re-sent the append in flight, whose answer was stale in turn, so
    // every duplicate lived on as one more append/answer pair; at 10% duplication the queue grew 10% a tick.
    const limits = { ...LIMITS, entries_per_append_max: 1, inflight_appends_max: 1, proposals_pending_max: 100 };
    const harness = new Harness([1, 2, 3], limits);
    harness.tickUntilMaster(1);
    harness.tick(limits.heartbeat_ticks);
    const master = harness.replica(1);
    const match_index = master.status().peers.find((peer) => peer.id === 2)?.match_index as number;
    expect(match_index).toBe(master.status().last_index);
    harness.cut.add('1>2'); // the append below stays in flight: the window to node 2 is full
    master.propose('x');
    harness.settle();
    const appends_before = appendsIn(harness.sent, 2).length;
    const stale: Message<string> = {
      type: 'append_response',
      from: 2,
      to: 1,
      term: master.status().term,
      success: true,
      index: match_index,
      hint_index: 0,
      hint_term: 0,
      read_context: 0,
    };
    for (let copy = 0; copy < 10; copy += 1) {
      master.step({ ...stale });
      harness.settle();
    }
    // At most the one append the heartbeat sent at the commit (to a full window) lets go; before the fix, ten.
    expect(appendsIn(harness.sent, 2).length - appends_before).toBeLessThanOrEqual(1);
    // The window still recovers: the next heartbeat claims the append in flight, and once the link is back it lands.
    harness.heal();
    harness.tick(2 * limits.heartbeat_ticks);
    expect(master.status().peers.find((peer) => peer.id === 2)?.match_index).toBe(master.status().last_index);
  });

  test('a slave with a divergent log is brought in line, skipping a term at a time', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    harness.isolate(1);
    for (let count = 0; count < 6; count += 1) harness.replica(1).propose(`stale${count}`);
    harness.settle();
    harness.tickUntilMaster(2);
    for (let count = 0; count < 3; count += 1) harness.replica(2).propose(`new${count}`);
    harness.settle();
    harness.heal();
    harness.tick(3 * LIMITS.failover_timeout_ticks);
    expect(harness.masterIds()).toEqual([2]);
    expect(harness.appliedData(1)).toEqual(harness.appliedData(2));
    expect(harness.disks.get(1)?.entries.map((entry) => entry.data)).toEqual(harness.disks.get(2)?.entries.map((entry) => entry.data));
  });
});

describe('snapshots', () => {
  test('a slave behind the compacted log gets the snapshot, restores it, and continues after it', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    harness.kill(3);
    for (let count = 0; count < 6; count += 1) harness.replica(1).propose(`p${count}`);
    harness.settle();
    const master = harness.replica(1);
    const applied_index = master.status().applied_index;
    master.compact(applied_index, new Uint8Array([7, 7]));
    expect(master.status()).toMatchObject({ first_index: applied_index + 1, snapshot_index: applied_index });
    harness.start(3);
    harness.tick(2 * LIMITS.heartbeat_ticks);
    expect(harness.received_snapshots.get(3)?.map((snapshot) => snapshot.meta)).toEqual([{ last_index: applied_index, last_term: 1 }]);
    harness.replica(1).propose('after');
    harness.tick(LIMITS.heartbeat_ticks);
    expect(harness.replica(3).status()).toMatchObject({ first_index: applied_index + 1, commit_index: applied_index + 1 });
    expect(harness.appliedData(3)).toEqual(['after']);
  });

  test('compaction beyond the applied index is a programmer error', () => {
    const harness = new Harness([1]);
    expect(() => harness.replica(1).compact(5, new Uint8Array())).toThrow(/beyond the applied index/);
  });

  test('a restart restores the snapshot and hands the committed entries after it to apply again', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    for (let count = 0; count < 4; count += 1) harness.replica(1).propose(`p${count}`);
    harness.settle();
    harness.tick(LIMITS.heartbeat_ticks);
    const slave = harness.replica(2);
    slave.compact(3, new Uint8Array([3]));
    const disk = harness.disks.get(2) as Disk;
    disk.snapshot = { meta: { last_index: 3, last_term: 1 }, data: new Uint8Array([3]) };
    disk.entries = disk.entries.filter((entry) => entry.index > 3);
    harness.kill(2);
    harness.start(2);
    expect(harness.replica(2).status()).toMatchObject({ role: 'slave', term: 1, first_index: 4, applied_index: 5, commit_index: 5 });
    expect(harness.applied.get(2)?.map((entry) => entry.index)).toEqual([4, 5]);
  });
});

describe('strong reads (ReadIndex)', () => {
  test('a slave, and a master before its first commit, refuse', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    expect(harness.replica(2).readIndex('r')).toEqual({ ok: false, reason: 'not_master' });
    const fresh = new Harness([1, 2, 3]);
    fresh.cutBoth(1, 2);
    fresh.cutBoth(1, 3);
    fresh.tick(LIMITS.failover_timeout_ticks - 1);
    fresh.heal();
    fresh.replica(1).tick();
    fresh.drain(1); // the votes are out but nothing answered: no master yet
    expect(fresh.replica(1).readIndex('r')).toEqual({ ok: false, reason: 'not_master' });
  });

  test('a read is confirmed after a majority answers a round sent after it, at the commit index of its time', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    harness.replica(1).propose('a');
    harness.settle();
    harness.cutBoth(1, 2);
    harness.cutBoth(1, 3);
    expect(harness.replica(1).readIndex('r1')).toEqual({ ok: true });
    harness.settle();
    expect(harness.read_states.get(1)).toEqual([]);
    harness.heal();
    expect(harness.replica(1).readIndex('r2')).toEqual({ ok: true });
    harness.settle();
    expect(harness.read_states.get(1)).toEqual([
      { request_id: 'r1', index: 2 },
      { request_id: 'r2', index: 2 },
    ]);
  });

  test('pending reads are bounded by read_requests_max', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    harness.isolate(1);
    for (let count = 0; count < LIMITS.read_requests_max; count += 1) expect(harness.replica(1).readIndex(`r${count}`).ok).toBe(true);
    expect(harness.replica(1).readIndex('more')).toEqual({ ok: false, reason: 'busy' });
  });

  test('a deposed master never confirms a read', () => {
    const harness = new Harness([1, 2, 3]);
    harness.tickUntilMaster(1);
    harness.isolate(1);
    harness.replica(1).readIndex('stale');
    harness.tickUntilMaster(2);
    harness.replica(2).propose('newer');
    harness.heal();
    harness.tick(LIMITS.failover_timeout_ticks);
    expect(harness.read_states.get(1)).toEqual([]);
  });
});

describe('the ready loop', () => {
  test('ready() twice without advance() is a programmer error; advance() without ready() too', () => {
    const replica = new Replica<string>({ id: 1, peers: [1], ...LIMITS }, EMPTY);
    expect(() => replica.advance()).toThrow(/without ready/);
    replica.ready();
    expect(replica.hasReady()).toBe(false);
    expect(() => replica.ready()).toThrow(/before advance/);
  });

  test('messages for another node or from an unknown one are programmer errors', () => {
    const replica = new Replica<string>({ id: 1, peers: [1, 2], ...LIMITS }, EMPTY);
    const vote = { type: 'request_vote', term: 1, pre_vote: true, last_index: 0, last_term: 0 } as const;
    expect(() => replica.step({ ...vote, from: 2, to: 3 })).toThrow(/for 3/);
    expect(() => replica.step({ ...vote, from: 9, to: 1 })).toThrow(/unknown node 9/);
  });

  test('proposing null is a programmer error (null is the no-op)', () => {
    const replica = new Replica<string | null>({ id: 1, peers: [1], ...LIMITS }, EMPTY);
    expect(() => replica.propose(null)).toThrow(/no-op/);
  });
});

describe('purity', () => {
  test.each(['replica.ts', 'log.ts', 'quorum.ts', 'messages.ts', 'sync-policy.ts', 'mix32.ts', 'progress-tracker.ts', 'read-index-rounds.ts'])('%s does no I/O and reads no clock', (file) => {
    const text = readFileSync(join(__dirname, '../../src/replication', file), 'utf8');
    const source = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, ''); // code only, not comments
    expect(source).not.toMatch(/from ['"](node:)?(fs|http|https|net|timers|child_process|express|axios)['"]/);
    expect(source).not.toMatch(/require\(/);
    expect(source).not.toMatch(/Date\.now|new Date|Math\.random|setTimeout|setInterval|setImmediate|process\./);
  });
});
