/**
 * A node's answers to its peers' requests (forwarded writes, read indexes)
 * carry failures as values. A DdbError keeps its code; anything else is a
 * bug, logged and answered INTERNAL (500), so one bad write of a batch never
 * fails the others.
 */
import { DdbError, type ErrorBody } from '../../utils/errors';
import type { Logger } from '../../utils/logger';

export function failureOf(error: unknown, logger: Logger): { ok: false; error: ErrorBody } {
  const failure = error instanceof DdbError ? error : new DdbError('INTERNAL', 'internal error');
  if (!(error instanceof DdbError)) logger.error('peer request failed unexpectedly', { error: (error as Error)?.stack ?? String(error) });
  return { ok: false, error: { code: failure.code, message: failure.message, details: failure.details } };
}
