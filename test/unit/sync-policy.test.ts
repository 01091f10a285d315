/** The sync rules of sync-policy.ts: what needs an fsync, and what may leave before it. */
import { mustSync, splitAtSync } from '../../src/replication/sync-policy';

const stored = { term: 3, vote: 1, commit: 10 };

describe('mustSync', () => {
  it('syncs entries, a new term and a new vote; not a commit index alone', () => {
    expect(mustSync(stored, null, 1)).toBe(true);
    expect(mustSync(stored, { ...stored, term: 4, vote: null }, 0)).toBe(true);
    expect(mustSync({ ...stored, vote: null }, stored, 0)).toBe(true);
    expect(mustSync(stored, { ...stored, commit: 11 }, 0)).toBe(false);
    expect(mustSync(stored, null, 0)).toBe(false);
  });
});

describe('splitAtSync', () => {
  const messages = [
    { type: 'append_entries', to: 2 },
    { type: 'append_response', to: 2 },
    { type: 'vote_response', to: 3 },
    { type: 'append_entries', to: 3 },
    { type: 'request_vote', to: 2 },
    { type: 'install_snapshot', to: 3 },
  ];

  it("lets only a master's appends leave before the sync", () => {
    const { before, after } = splitAtSync(messages, stored, { ...stored, commit: 12 });
    expect(before).toEqual([messages[0], messages[3]]);
    expect(after).toEqual([messages[1], messages[2], messages[4], messages[5]]);
    expect(splitAtSync(messages, stored, null).before).toEqual([messages[0], messages[3]]);
  });

  it('holds every message when the pass changes term or vote', () => {
    expect(splitAtSync(messages, stored, { term: 4, vote: null, commit: 10 })).toEqual({ before: [], after: messages });
    expect(splitAtSync(messages, { ...stored, vote: null }, stored)).toEqual({ before: [], after: messages });
  });
});
