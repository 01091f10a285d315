/** readinessOf: GET /ready's rule, as a table. */
import type { ReplicaStatus } from '../../src/replication/messages';
import { readinessOf } from '../../src/node/readiness';

function replica(fields: Partial<ReplicaStatus>): ReplicaStatus {
  return {
    id: 2,
    role: 'slave',
    pre_candidate: false,
    term: 3,
    master_id: 1,
    commit_index: 10,
    master_commit_index: 10,
    term_start_committed: false,
    role_reason: '',
    applied_index: 10,
    first_index: 1,
    last_index: 10,
    snapshot_index: 0,
    messages_dropped: 0,
    peers: [],
    ...fields,
  };
}

const cases: [string, Partial<ReplicaStatus>, number, number | null, string | null][] = [
  // name, replica fields, applied index, ms since the master was heard, expected reason (null: ready)
  ['a slave that has applied what its live master committed', {}, 10, 50, null],
  ['a slave that has not heard any master', { master_id: null }, 0, null, 'no master known yet'],
  ['a slave whose master went silent', {}, 10, 1500, 'no word from the master (node 1) for 1500 ms'],
  ['a slave behind its master', { commit_index: 4, master_commit_index: 10 }, 4, 50, 'catching up: applied 4 of the 10'],
  ['a candidate', { role: 'candidate', master_id: null, pre_candidate: true }, 10, null, 'an election for term 4 is in progress'],
  ['a master whose term has not committed an entry', { role: 'master', master_id: 2 }, 10, null, 'not yet committed the first entry of term 3'],
  ['a master that has not applied its commits', { role: 'master', master_id: 2, term_start_committed: true, master_commit_index: 12 }, 10, null, 'catching up'],
  ['a master that is up to date', { role: 'master', master_id: 2, term_start_committed: true }, 10, null, null],
];

it.each(cases)('%s', (_name, fields, applied_index, master_silent_ms, reason) => {
  const readiness = readinessOf({ replica: replica(fields), applied_index, master_silent_ms, failover_timeout_ms: 1000 });
  if (reason === null) expect(readiness).toEqual({ ready: true });
  else expect(readiness).toEqual({ ready: false, reason: expect.stringContaining(reason) });
});
