import { committedIndex, majoritySize, voteOutcome } from '../../src/replication/quorum';

describe('majoritySize', () => {
  test.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
    [7, 4],
  ])('%i voters need %i', (voters, majority) => {
    expect(majoritySize(voters)).toBe(majority);
  });

  test.each([0, -1, 1.5])('refuses %p voters', (voters) => {
    expect(() => majoritySize(voters)).toThrow(/positive integer/);
  });
});

describe('committedIndex', () => {
  test.each<[number[], number]>([
    [[5], 5],
    [[5, 3], 3],
    [[3, 5], 3],
    [[5, 3, 1], 3],
    [[1, 3, 5], 3],
    [[0, 0, 7], 0],
    [[7, 7, 0], 7],
    [[5, 5, 1, 1], 1],
    [[5, 5, 5, 1], 5],
    [[9, 7, 5, 3, 1], 5],
    [[1, 1, 9, 9, 9], 9],
    [[2, 8, 4, 6, 0], 4],
  ])('%p commits %i', (acknowledged, committed) => {
    expect(committedIndex(acknowledged)).toBe(committed);
  });

  test('does not reorder its input', () => {
    const acknowledged = [1, 9, 5];
    committedIndex(acknowledged);
    expect(acknowledged).toEqual([1, 9, 5]);
  });

  test('refuses an empty set', () => {
    expect(() => committedIndex([])).toThrow(/no acknowledgements/);
  });
});

describe('voteOutcome', () => {
  test.each<[number, number, number, string]>([
    [1, 1, 0, 'won'],
    [3, 1, 0, 'pending'],
    [3, 2, 0, 'won'],
    [3, 1, 1, 'pending'],
    [3, 1, 2, 'lost'],
    [4, 2, 1, 'pending'],
    [4, 2, 2, 'lost'],
    [4, 3, 0, 'won'],
    [5, 3, 2, 'won'],
    [5, 2, 2, 'pending'],
    [5, 2, 3, 'lost'],
  ])('%i voters, %i granted, %i refused: %s', (voter_count, granted_count, refused_count, outcome) => {
    expect(voteOutcome({ voter_count, granted_count, refused_count })).toBe(outcome);
  });

  test('refuses more answers than voters', () => {
    expect(() => voteOutcome({ voter_count: 3, granted_count: 2, refused_count: 2 })).toThrow(/answers from 3 voters/);
  });
});
