import { ReadIndexRounds } from '../../src/replication/read-index-rounds';

/** `open`: a strong read asked at commit index `at`; `answered`: the highest round each slave has answered, and the reads that go. */
type Step = { open: string; at: number } | { answered: number[]; released: string[] };

interface RoundsCase {
  name: string;
  steps: Step[];
}

function opens(...request_ids: string[]): Step[] {
  return request_ids.map((request_id, position) => ({ open: request_id, at: 10 + position }));
}

describe('ReadIndexRounds', () => {
  test.each<RoundsCase>([
    {
      name: '3 nodes: nobody answered yet, nothing goes',
      steps: [...opens('a', 'b', 'c'), { answered: [0, 0], released: [] }],
    },
    {
      name: '3 nodes: one slave answering round 1 releases the first read only',
      steps: [...opens('a', 'b', 'c'), { answered: [1, 0], released: ['a'] }],
    },
    {
      name: '3 nodes: one answer confirms every round up to it',
      steps: [...opens('a', 'b', 'c'), { answered: [0, 3], released: ['a', 'b', 'c'] }],
    },
    {
      name: '3 nodes: the latest round answered first releases all; the older answers after it release nothing more',
      steps: [
        ...opens('a', 'b', 'c'),
        { answered: [3, 0], released: ['a', 'b', 'c'] },
        { answered: [3, 1], released: [] },
        { answered: [3, 2], released: [] },
      ],
    },
    {
      name: '2 nodes: the one slave must answer',
      steps: [...opens('a', 'b'), { answered: [0], released: [] }, { answered: [1], released: ['a'] }, { answered: [2], released: ['b'] }],
    },
    {
      name: '5 nodes: one slave is not a majority with the master',
      steps: [...opens('a', 'b', 'c'), { answered: [3, 0, 0, 0], released: [] }],
    },
    {
      name: '5 nodes: rounds answered out of order release as a majority forms',
      steps: [
        ...opens('a', 'b', 'c'),
        { answered: [3, 1, 0, 0], released: ['a'] },
        { answered: [3, 1, 2, 0], released: ['b'] },
        { answered: [3, 3, 2, 0], released: ['c'] },
      ],
    },
    {
      name: '5 nodes: a majority at different rounds confirms the lowest of them',
      steps: [...opens('a', 'b', 'c'), { answered: [2, 0, 3, 0], released: ['a', 'b'] }],
    },
    {
      name: 'a read asked after the answers waits for a later round',
      steps: [
        ...opens('a'),
        { answered: [1, 1], released: ['a'] },
        { open: 'b', at: 12 },
        { answered: [1, 1], released: [] },
        { answered: [2, 1], released: ['b'] },
      ],
    },
    {
      name: 'nothing pending: nothing goes',
      steps: [{ answered: [5, 5], released: [] }],
    },
  ])('$name', ({ steps }) => {
    const rounds = new ReadIndexRounds();
    const asked_at = new Map<string, number>();
    for (const step of steps) {
      if ('open' in step) {
        rounds.open(step.open, step.at);
        asked_at.set(step.open, step.at);
      } else {
        const expected = step.released.map((request_id) => ({ request_id, index: asked_at.get(request_id) }));
        expect(rounds.release(step.answered)).toEqual(expected);
      }
    }
  });

  test('each read opens the next round, which every message then carries', () => {
    const rounds = new ReadIndexRounds();
    expect([rounds.round, rounds.pending_count]).toEqual([0, 0]);
    rounds.open('a', 4);
    rounds.open('b', 4);
    expect([rounds.round, rounds.pending_count]).toEqual([2, 2]);
    rounds.release([1, 0]);
    expect([rounds.round, rounds.pending_count]).toEqual([2, 1]);
  });

  test('a released read keeps the commit index it was asked at', () => {
    const rounds = new ReadIndexRounds();
    rounds.open('a', 5);
    rounds.open('b', 7);
    expect(rounds.release([2, 2])).toEqual([
      { request_id: 'a', index: 5 },
      { request_id: 'b', index: 7 },
    ]);
  });

  test('a change of role drops the waiting reads but not the round: rounds only grow', () => {
    const rounds = new ReadIndexRounds();
    rounds.open('a', 5);
    rounds.open('b', 5);
    rounds.clear();
    expect([rounds.round, rounds.pending_count]).toEqual([2, 0]);
    expect(rounds.release([2, 2])).toEqual([]);
    rounds.open('c', 9);
    expect(rounds.round).toBe(3);
    // A new term's slaves answer from 0 again; the round they must reach is the new one.
    expect(rounds.release([2, 0])).toEqual([]);
    expect(rounds.release([3, 0])).toEqual([{ request_id: 'c', index: 9 }]);
  });

  test('does not reorder the rounds it is given', () => {
    const rounds = new ReadIndexRounds();
    rounds.open('a', 1);
    const answered = [0, 1, 0];
    rounds.release(answered);
    expect(answered).toEqual([0, 1, 0]);
  });
});
