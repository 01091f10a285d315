import type { AppendEntries, Entry } from '../../src/replication/messages';
import {
  type Progress,
  TICKS_AGO_MAX,
  acknowledgeReadRound,
  answerReceived,
  answeredWithin,
  appendRefused,
  appendSent,
  appendSucceeded,
  appendsPaused,
  becomeProbe,
  becomeReplicate,
  becomeSnapshot,
  forgetInflight,
  freeInflight,
  heartbeatSent,
  inflightFull,
  joinUnsentAppend,
  newProgress,
  outboxTaken,
  probeSent,
  refreshUnsentAppend,
  sentBeyondMatch,
  snapshotLost,
  tickProgress,
  unsentAppendRoom,
} from '../../src/replication/progress-tracker';

/** A slave's progress with a window of 3 appends, changed by `fields`. */
function progressWith(fields: Partial<Progress<string>> = {}): Progress<string> {
  return { ...newProgress<string>({ id: 2, next_index: 1, answered_ago_ticks: 0, inflight_appends_max: 3 }), ...fields };
}

function entries(first_index: number, count: number): Entry<string>[] {
  return Array.from({ length: count }, (_unused, position) => ({ index: first_index + position, term: 1, data: `e${first_index + position}` }));
}

function append(prev_index: number, entry_count: number): AppendEntries<string> {
  return {
    type: 'append_entries',
    from: 1,
    to: 2,
    term: 1,
    prev_index,
    prev_term: prev_index === 0 ? 0 : 1,
    entries: entries(prev_index + 1, entry_count),
    commit: 0,
    live_ids: [2],
    read_context: 0,
  };
}

describe('newProgress', () => {
  test('a new master knows nothing matches and probes from the end of its log', () => {
    expect(newProgress<string>({ id: 3, next_index: 8, answered_ago_ticks: 10, inflight_appends_max: 4 })).toEqual({
      id: 3,
      match_index: 0,
      next_index: 8,
      state: 'probe',
      probe_paused: false,
      inflight_last_indexes: [],
      inflight_appends_max: 4,
      free_one_allowed: false,
      snapshot_index: 0,
      snapshot_sent_ago_ticks: 0,
      answered_ago_ticks: 10,
      read_acknowledged: 0,
      unsent_append: null,
      unsent_append_bytes: 0,
      refusals_below_match: 0,
    });
  });
});

interface SucceededCase {
  name: string;
  before: Partial<Progress<string>>;
  acknowledged_index: number;
  after: Partial<Progress<string>>;
  advanced: boolean;
}

describe('appendSucceeded', () => {
  test.each<SucceededCase>([
    {
      name: 'probe: the probe matched, so replicate from the entry after it',
      before: { state: 'probe', probe_paused: true, match_index: 0, next_index: 6 },
      acknowledged_index: 5,
      after: { state: 'replicate', match_index: 5, next_index: 6 },
      advanced: true,
    },
    {
      name: 'probe: a slave that answers with its lower commit index is replicated from there',
      before: { state: 'probe', probe_paused: true, match_index: 0, next_index: 10 },
      acknowledged_index: 4,
      after: { state: 'replicate', match_index: 4, next_index: 5 },
      advanced: true,
    },
    {
      name: 'probe: a stale success still ends the probe (the slave is reachable), from the match index',
      before: { state: 'probe', match_index: 5, next_index: 8 },
      acknowledged_index: 3,
      after: { state: 'replicate', match_index: 5, next_index: 6 },
      advanced: false,
    },
    {
      name: 'replicate: an answer frees the appends it covers, oldest first',
      before: { state: 'replicate', match_index: 2, next_index: 9, inflight_last_indexes: [4, 6, 8] },
      acknowledged_index: 6,
      after: { match_index: 6, inflight_last_indexes: [8] },
      advanced: true,
    },
    {
      name: 'replicate: an answer in the middle of an append frees only those before it',
      before: { state: 'replicate', match_index: 2, next_index: 9, inflight_last_indexes: [4, 6, 8] },
      acknowledged_index: 5,
      after: { match_index: 5, inflight_last_indexes: [6, 8] },
      advanced: true,
    },
    {
      name: 'replicate: the answer to the last append empties the window',
      before: { state: 'replicate', match_index: 2, next_index: 9, inflight_last_indexes: [4, 6, 8] },
      acknowledged_index: 8,
      after: { match_index: 8, inflight_last_indexes: [] },
      advanced: true,
    },
    {
      name: 'replicate: a full window freed by a heartbeat answer lets one more append go',
      before: { state: 'replicate', match_index: 2, next_index: 9, inflight_last_indexes: [4, 6, 8], free_one_allowed: true },
      acknowledged_index: 2,
      after: { inflight_last_indexes: [6, 8], free_one_allowed: false },
      advanced: false,
    },
    {
      name: 'replicate: a stale or duplicated answer at a full window with no heartbeat since lets nothing go',
      before: { state: 'replicate', match_index: 2, next_index: 9, inflight_last_indexes: [4, 6, 8] },
      acknowledged_index: 2,
      after: {},
      advanced: false,
    },
    {
      name: 'replicate: a heartbeat answer with room in the window changes nothing',
      before: { state: 'replicate', match_index: 4, next_index: 9, inflight_last_indexes: [6, 8] },
      acknowledged_index: 4,
      after: {},
      advanced: false,
    },
    {
      name: 'replicate: a stale success below the match index with room in the window changes nothing',
      before: { state: 'replicate', match_index: 6, next_index: 9, inflight_last_indexes: [8] },
      acknowledged_index: 4,
      after: {},
      advanced: false,
    },
    {
      name: 'replicate: a window of one freed by a heartbeat answer resends from the match index',
      before: { state: 'replicate', match_index: 2, next_index: 9, inflight_last_indexes: [8], inflight_appends_max: 1, free_one_allowed: true },
      acknowledged_index: 2,
      after: { inflight_last_indexes: [], next_index: 3, free_one_allowed: false },
      advanced: false,
    },
    {
      name: 'replicate: a window of one and a stale answer with no heartbeat since: nothing is resent',
      before: { state: 'replicate', match_index: 2, next_index: 9, inflight_last_indexes: [8], inflight_appends_max: 1 },
      acknowledged_index: 2,
      after: {},
      advanced: false,
    },
    {
      name: 'replicate: a lost append with nothing in flight is sent again',
      before: { state: 'replicate', match_index: 2, next_index: 9, inflight_last_indexes: [] },
      acknowledged_index: 2,
      after: { next_index: 3 },
      advanced: false,
    },
    {
      name: 'replicate: an answer beyond what was sent (a slave’s commit index) moves next past it',
      before: { state: 'replicate', match_index: 2, next_index: 5, inflight_last_indexes: [4] },
      acknowledged_index: 7,
      after: { match_index: 7, next_index: 8, inflight_last_indexes: [] },
      advanced: true,
    },
    {
      name: 'snapshot: an answer short of the snapshot keeps waiting for it',
      before: { state: 'snapshot', snapshot_index: 20, match_index: 3, next_index: 4 },
      acknowledged_index: 10,
      after: { match_index: 10, next_index: 11 },
      advanced: true,
    },
    {
      name: 'snapshot: the snapshot landed, so replicate after it',
      before: { state: 'snapshot', snapshot_index: 20, match_index: 3, next_index: 4 },
      acknowledged_index: 20,
      after: { state: 'replicate', match_index: 20, next_index: 21 },
      advanced: true,
    },
    {
      name: 'snapshot: a slave already past the snapshot replicates after its own index',
      before: { state: 'snapshot', snapshot_index: 20, match_index: 3, next_index: 4 },
      acknowledged_index: 25,
      after: { state: 'replicate', match_index: 25, next_index: 26 },
      advanced: true,
    },
    {
      name: 'snapshot: a stale success neither advances nor ends the wait',
      before: { state: 'snapshot', snapshot_index: 20, match_index: 3, next_index: 4 },
      acknowledged_index: 2,
      after: {},
      advanced: false,
    },
  ])('$name', ({ before, acknowledged_index, after, advanced }) => {
    const progress = progressWith(before);
    const expected = { ...progressWith(before), ...after };
    expect(appendSucceeded(progress, acknowledged_index)).toBe(advanced);
    expect(progress).toEqual(expected);
  });

  test('a change of state drops the append waiting in the outbox: nothing more joins it', () => {
    const progress = progressWith({ state: 'probe', match_index: 0, next_index: 5, unsent_append: append(4, 0) });
    appendSucceeded(progress, 4);
    expect(progress.unsent_append).toBeNull();
  });
});

interface RefusedCase {
  name: string;
  before: Partial<Progress<string>>;
  refused_index: number;
  conflict_index: number;
  after: Partial<Progress<string>>;
}

describe('appendRefused', () => {
  test.each<RefusedCase>([
    {
      name: 'probe: the probe was refused, so probe after where the logs may agree',
      before: { state: 'probe', probe_paused: true, match_index: 0, next_index: 11 },
      refused_index: 10,
      conflict_index: 4,
      after: { probe_paused: false, next_index: 5 },
    },
    {
      name: 'probe: a hint beyond the refused index goes back only to the refused index',
      before: { state: 'probe', probe_paused: true, match_index: 0, next_index: 11 },
      refused_index: 10,
      conflict_index: 12,
      after: { probe_paused: false, next_index: 10 },
    },
    {
      name: 'probe: never behind what the slave acknowledged in this term',
      before: { state: 'probe', probe_paused: true, match_index: 6, next_index: 11 },
      refused_index: 10,
      conflict_index: 2,
      after: { probe_paused: false, next_index: 7 },
    },
    {
      name: 'probe: a stale refusal only says the slave is reachable: probe again from the same place',
      before: { state: 'probe', probe_paused: true, match_index: 0, next_index: 5 },
      refused_index: 10,
      conflict_index: 2,
      after: { probe_paused: false },
    },
    {
      name: 'replicate: a stale refusal at or below the match index is ignored (and counted)',
      before: { state: 'replicate', match_index: 8, next_index: 12, inflight_last_indexes: [10, 11] },
      refused_index: 8,
      conflict_index: 3,
      after: { refusals_below_match: 1 },
    },
    {
      name: 'replicate: a second refusal of acknowledged entries since the last success: the slave lost its log, probe from its hint',
      before: { state: 'replicate', match_index: 8, next_index: 12, inflight_last_indexes: [10, 11], refusals_below_match: 1 },
      refused_index: 8,
      conflict_index: 0,
      after: { state: 'probe', match_index: 0, next_index: 1, inflight_last_indexes: [], refusals_below_match: 0 },
    },
    {
      name: 'probe: the current probe refused at the match index: the slave lost its log at once',
      before: { state: 'probe', match_index: 8, next_index: 9, probe_paused: true },
      refused_index: 8,
      conflict_index: 2,
      after: { state: 'probe', match_index: 0, next_index: 3, probe_paused: false, refusals_below_match: 0 },
    },
    {
      name: 'replicate: a refusal at the match index whose hint still reaches it is no sign of loss',
      before: { state: 'replicate', match_index: 8, next_index: 12, inflight_last_indexes: [10, 11], refusals_below_match: 1 },
      refused_index: 8,
      conflict_index: 8,
      after: {},
    },
    {
      name: 'replicate: a refusal above the match index (an append was lost) re-probes and empties the window',
      before: { state: 'replicate', match_index: 8, next_index: 12, inflight_last_indexes: [10, 11], unsent_append: append(11, 0) },
      refused_index: 10,
      conflict_index: 8,
      after: { state: 'probe', next_index: 9, inflight_last_indexes: [], unsent_append: null },
    },
    {
      name: 'replicate: a hint at the refused index re-probes from the refused index',
      before: { state: 'replicate', match_index: 8, next_index: 12, inflight_last_indexes: [10, 11] },
      refused_index: 10,
      conflict_index: 10,
      after: { state: 'probe', next_index: 10, inflight_last_indexes: [] },
    },
    {
      name: 'snapshot: a refusal while the snapshot is on its way says nothing new',
      before: { state: 'snapshot', snapshot_index: 20, match_index: 3, next_index: 4 },
      refused_index: 3,
      conflict_index: 0,
      after: {},
    },
  ])('$name', ({ before, refused_index, conflict_index, after }) => {
    const progress = progressWith(before);
    const expected = { ...progressWith(before), ...after };
    appendRefused(progress, { refused_index, conflict_index });
    expect(progress).toEqual(expected);
  });
});

describe('freeInflight', () => {
  // [in flight, window size, match index, next index, heartbeat sent at a full window, acknowledged index] → [in flight, next index]
  test.each<[number[], number, number, number, boolean, number, number[], number]>([
    [[4, 6, 8], 3, 2, 9, false, 6, [8], 9],
    [[4, 6, 8], 3, 8, 9, false, 8, [], 9],
    [[4, 6, 8], 3, 2, 9, true, 3, [6, 8], 9],
    [[4, 6, 8], 3, 2, 9, false, 3, [4, 6, 8], 9],
    [[4, 6, 8], 4, 2, 9, true, 3, [4, 6, 8], 9],
    [[8], 1, 2, 9, true, 2, [], 3],
    [[8], 1, 2, 9, false, 2, [8], 9],
    [[], 3, 2, 9, false, 2, [], 3],
    [[], 3, 8, 9, false, 8, [], 9],
  ])(
    '%p (window %i, match %i, next %i, heartbeat %p) acknowledged to %i: %p, next %i',
    (inflight, window, match_index, next_index, free_one_allowed, acknowledged, inflight_after, next_after) => {
      const progress = progressWith({ state: 'replicate', inflight_last_indexes: [...inflight], inflight_appends_max: window, match_index, next_index, free_one_allowed });
      freeInflight(progress, acknowledged);
      expect(progress.inflight_last_indexes).toEqual(inflight_after);
      expect(progress.next_index).toBe(next_after);
    },
  );

  test('only one answer per heartbeat frees a slot of a full window, however many copies arrive', () => {
    const progress = progressWith({ state: 'replicate', match_index: 2, next_index: 3, inflight_appends_max: 1 });
    appendSent(progress, append(2, 1));
    heartbeatSent(progress, append(2, 0));
    freeInflight(progress, 2);
    expect([progress.inflight_last_indexes, progress.next_index, progress.free_one_allowed]).toEqual([[], 3, false]);
    appendSent(progress, append(2, 1)); // the resend
    for (let copy = 0; copy < 5; copy += 1) freeInflight(progress, 2);
    expect([progress.inflight_last_indexes, progress.next_index]).toEqual([[3], 4]);
  });
});

describe('state transitions', () => {
  const busy: Partial<Progress<string>> = {
    state: 'replicate',
    probe_paused: true,
    match_index: 4,
    next_index: 9,
    inflight_last_indexes: [6, 8],
    unsent_append: append(6, 2),
    snapshot_sent_ago_ticks: 7,
  };

  test('becomeProbe: sets where to probe, unpauses, forgets the pipeline', () => {
    const progress = progressWith(busy);
    becomeProbe(progress, 5);
    expect(progress).toEqual({ ...progressWith(busy), state: 'probe', probe_paused: false, next_index: 5, inflight_last_indexes: [], unsent_append: null });
  });

  test('becomeReplicate: starts after the match index with an empty window', () => {
    const progress = progressWith({ ...busy, state: 'snapshot' });
    becomeReplicate(progress);
    expect(progress).toEqual({ ...progressWith(busy), state: 'replicate', next_index: 5, inflight_last_indexes: [], unsent_append: null });
  });

  test('becomeSnapshot: remembers the snapshot and when it left', () => {
    const progress = progressWith(busy);
    becomeSnapshot(progress, 30);
    expect(progress).toEqual({
      ...progressWith(busy),
      state: 'snapshot',
      snapshot_index: 30,
      snapshot_sent_ago_ticks: 0,
      inflight_last_indexes: [],
      unsent_append: null,
    });
  });

  test('forgetInflight: the window and the waiting append go, the rest stays', () => {
    const progress = progressWith(busy);
    forgetInflight(progress);
    expect(progress).toEqual({ ...progressWith(busy), inflight_last_indexes: [], unsent_append: null });
  });
});

describe('time and answers', () => {
  test('tickProgress ages both counters and stops at the cap', () => {
    const progress = progressWith({ answered_ago_ticks: 3, snapshot_sent_ago_ticks: TICKS_AGO_MAX });
    tickProgress(progress);
    expect([progress.answered_ago_ticks, progress.snapshot_sent_ago_ticks]).toEqual([4, TICKS_AGO_MAX]);
    answerReceived(progress);
    expect(progress.answered_ago_ticks).toBe(0);
  });

  test.each<[number, number, boolean]>([
    [0, 10, true],
    [9, 10, true],
    [10, 10, false],
    [TICKS_AGO_MAX, 10, false],
  ])('answered %i ticks ago, within %i: %p', (answered_ago_ticks, ticks, within) => {
    expect(answeredWithin(progressWith({ answered_ago_ticks }), ticks)).toBe(within);
  });

  test.each<[Progress<string>['state'], number, boolean]>([
    ['snapshot', 9, false],
    ['snapshot', 10, true],
    ['snapshot', 11, true],
    ['probe', 50, false],
    ['replicate', 50, false],
  ])('%s sent %i ticks ago, timeout 10: lost %p', (state, snapshot_sent_ago_ticks, lost) => {
    expect(snapshotLost(progressWith({ state, snapshot_sent_ago_ticks }), 10)).toBe(lost);
  });

  // Answers come back in any order: only a newer round moves the acknowledgement.
  test.each<[number, number, boolean, number]>([
    [0, 1, true, 1],
    [3, 5, true, 5],
    [5, 3, false, 5],
    [5, 5, false, 5],
    [5, 0, false, 5],
  ])('acknowledged %i, answer of round %i: newer %p, now %i', (read_acknowledged, read_round, newer, after) => {
    const progress = progressWith({ read_acknowledged });
    expect(acknowledgeReadRound(progress, read_round)).toBe(newer);
    expect(progress.read_acknowledged).toBe(after);
  });
});

describe('sending', () => {
  test.each<[Progress<string>['state'], boolean, boolean]>([
    ['probe', false, false],
    ['probe', true, true],
    ['replicate', false, false],
    ['replicate', true, false],
    ['snapshot', false, true],
  ])('%s, probe paused %p: appends paused %p', (state, probe_paused, paused) => {
    expect(appendsPaused(progressWith({ state, probe_paused }))).toBe(paused);
  });

  test.each<[number, number, boolean]>([
    [0, 1, false],
    [1, 1, true],
    [2, 3, false],
    [3, 3, true],
    [4, 3, true],
  ])('%i in flight, window %i: full %p', (count, window, full) => {
    const progress = progressWith({ inflight_last_indexes: Array.from({ length: count }, (_unused, position) => position + 1), inflight_appends_max: window });
    expect(inflightFull(progress)).toBe(full);
  });

  test.each<[Progress<string>['state'], number, number, boolean]>([
    ['replicate', 4, 5, false],
    ['replicate', 4, 6, true],
    ['probe', 4, 9, false],
    ['snapshot', 4, 9, false],
  ])('%s, match %i, next %i: sent beyond the match %p', (state, match_index, next_index, beyond) => {
    expect(sentBeyondMatch(progressWith({ state, match_index, next_index }))).toBe(beyond);
  });

  test('probeSent pauses the probe until it is answered', () => {
    const progress = progressWith({ state: 'probe' });
    probeSent(progress);
    expect(appendsPaused(progress)).toBe(true);
  });

  test('appendSent puts the append in the window and moves next past it', () => {
    const progress = progressWith({ state: 'replicate', match_index: 2, next_index: 5, inflight_last_indexes: [4] });
    const message = append(4, 3);
    appendSent(progress, message);
    expect(progress).toEqual({ ...progressWith({ state: 'replicate', match_index: 2 }), next_index: 8, inflight_last_indexes: [4, 7], unsent_append: message });
    expect(() => appendSent(progress, append(3, 1))).toThrow(/next index 8/);
  });

  test('heartbeatSent leaves the window alone; outboxTaken lets nothing more join', () => {
    const progress = progressWith({ state: 'replicate', match_index: 2, next_index: 5, inflight_last_indexes: [4] });
    const heartbeat = append(2, 0);
    heartbeatSent(progress, heartbeat);
    expect([progress.unsent_append, progress.inflight_last_indexes, progress.next_index, progress.free_one_allowed]).toEqual([heartbeat, [4], 5, false]);
    heartbeatSent(progress, { ...heartbeat, to: 2 });
    expect(progress.free_one_allowed).toBe(false); // room in the window: nothing to free
    const full = progressWith({ state: 'replicate', match_index: 2, next_index: 5, inflight_last_indexes: [3, 4], inflight_appends_max: 2 });
    heartbeatSent(full, heartbeat);
    expect(full.free_one_allowed).toBe(true); // sent at a full window: its answer may free one slot
    outboxTaken(progress);
    expect(progress.unsent_append).toBeNull();
  });

  test('refreshUnsentAppend brings the waiting append up to date, and says when none waits', () => {
    const progress = progressWith();
    expect(refreshUnsentAppend(progress, { commit_index: 3, read_round: 2 })).toBe(false);
    const message = append(0, 1);
    heartbeatSent(progress, message);
    expect(refreshUnsentAppend(progress, { commit_index: 3, read_round: 2 })).toBe(true);
    expect([message.commit, message.read_context]).toEqual([3, 2]);
  });
});

interface RoomCase {
  name: string;
  unsent: [prev_index: number, entry_count: number] | null;
  next_index: number;
  inflight: number[];
  room: number;
}

describe('unsentAppendRoom (4 entries per append, window of 3)', () => {
  test.each<RoomCase>([
    { name: 'nothing waits in the outbox', unsent: null, next_index: 7, inflight: [6], room: 0 },
    { name: 'an append ending where the next entries start takes the rest', unsent: [4, 2], next_index: 7, inflight: [6], room: 2 },
    { name: 'a full append takes no more', unsent: [2, 4], next_index: 7, inflight: [6], room: 0 },
    { name: 'a heartbeat at the match index, behind what is in flight, takes none', unsent: [2, 0], next_index: 9, inflight: [6, 8], room: 0 },
    { name: 'a heartbeat at the last entry sent becomes an append when the window has room', unsent: [6, 0], next_index: 7, inflight: [6], room: 4 },
    { name: 'a heartbeat takes none when the window is full', unsent: [8, 0], next_index: 9, inflight: [4, 6, 8], room: 0 },
    { name: 'an append already in a full window may still grow', unsent: [6, 2], next_index: 9, inflight: [4, 6, 8], room: 2 },
  ])('$name', ({ unsent, next_index, inflight, room }) => {
    const unsent_append = unsent === null ? null : append(unsent[0], unsent[1]);
    const progress = progressWith({ state: 'replicate', match_index: 2, next_index, inflight_last_indexes: inflight, unsent_append });
    expect(unsentAppendRoom(progress, 4)).toBe(room);
  });
});

describe('joinUnsentAppend', () => {
  test('entries joining an append extend its place in the window', () => {
    const message = append(4, 2);
    const progress = progressWith({ state: 'replicate', match_index: 2, next_index: 7, inflight_last_indexes: [4, 6], unsent_append: message });
    joinUnsentAppend(progress, { entries: entries(7, 2), commit_index: 5 });
    expect(message.entries.map((entry) => entry.index)).toEqual([5, 6, 7, 8]);
    expect([message.commit, progress.inflight_last_indexes, progress.next_index]).toEqual([5, [4, 8], 9]);
  });

  test('entries joining a heartbeat make it an append with its own place in the window', () => {
    const message = append(6, 0);
    const progress = progressWith({ state: 'replicate', match_index: 2, next_index: 7, inflight_last_indexes: [6], unsent_append: message });
    joinUnsentAppend(progress, { entries: entries(7, 3), commit_index: 6 });
    expect(message.entries.map((entry) => entry.index)).toEqual([7, 8, 9]);
    expect([message.commit, progress.inflight_last_indexes, progress.next_index]).toEqual([6, [6, 9], 10]);
  });

  test('nothing joins when nothing waits', () => {
    expect(() => joinUnsentAppend(progressWith(), { entries: entries(1, 1), commit_index: 0 })).toThrow(/waiting in the outbox/);
  });
});
