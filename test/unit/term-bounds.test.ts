/**
 * The replica keeps to TERM_MAX (bounds.ts), the bound storage saves and
 * recovers: a message past it is dropped, and a node at it does not campaign
 * (the next term could not be persisted).
 */
import { TERM_MAX } from '../../src/replication/bounds';
import { Replica } from '../../src/replication/replica';

const config = {
  id: 1,
  peers: [1, 2, 3],
  heartbeat_ticks: 2,
  failover_timeout_ticks: 10,
  election_stagger_ticks: 2,
  entries_per_append_max: 8,
  inflight_appends_max: 2,
  proposals_pending_max: 10,
  read_requests_max: 10,
};

function replicaAt(term: number): Replica<string> {
  return new Replica<string>(config, { hard_state: { term, vote: null, commit: 0 }, snapshot: null, entries: [] });
}

it('a message with a term past TERM_MAX is dropped', () => {
  const replica = replicaAt(3);
  replica.step({ type: 'append_entries', from: 2, to: 1, term: TERM_MAX + 1, prev_index: 0, prev_term: 0, entries: [], commit: 0, live_ids: [], read_context: 0 });
  expect(replica.status().term).toBe(3);
  expect(replica.hasReady()).toBe(false);
});

it('a node at TERM_MAX does not campaign, and does not throw', () => {
  const replica = replicaAt(TERM_MAX);
  for (let tick = 0; tick < 200; tick += 1) replica.tick();
  expect(replica.status().term).toBe(TERM_MAX);
  // A term below the bound campaigns as usual.
  const normal = replicaAt(TERM_MAX - 1);
  for (let tick = 0; tick < 200; tick += 1) normal.tick();
  expect(normal.status().role).toBe('candidate');
});
