/** Shared pieces of the storage unit tests: temporary directories and small values. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HardState, Snapshot } from '../../src/replication/messages';

/**
 * Registers an afterEach that restores mocks and removes every directory made
 * during the test; returns the function that makes one.
 */
export function useTempDirs(prefix: string): () => string {
  let dirs: string[] = [];
  afterEach(() => {
    jest.restoreAllMocks();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    dirs = [];
  });
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}

export function hard(term: number, vote: number | null, commit = 0): HardState {
  return { term, vote, commit };
}

export function snapshotAt(last_index: number, last_term: number, text = `image@${last_index}`): Snapshot {
  return { meta: { last_index, last_term }, data: new TextEncoder().encode(text) };
}
