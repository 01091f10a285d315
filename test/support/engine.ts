/** Shared pieces of the engine unit tests. */
import { DdbError } from '../../utils/errors';

/** The context the master would fix for an entry: a fixed clock and seed, so results are exact. */
export const FIXED_CONTEXT = { timestamp_ms: Date.UTC(2025, 4, 18, 12, 34, 56, 789), seed: 7 };

/** The code of the DdbError a read throws, or 'OK' when it throws nothing. */
export function thrownCode(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    if (error instanceof DdbError) return error.code;
    throw error;
  }
  return 'OK';
}
