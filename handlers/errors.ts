/**
 * The one place errors become HTTP responses. DdbError carries its own status;
 * any other error is a bug: logged with its stack, answered 500 INTERNAL.
 */
import type { NextFunction, Request, Response } from 'express';
import { DdbError } from '../utils/errors';
import type { Logger } from '../utils/logger';
import { reply } from './reply';

export function notFound(request: Request): never {
  throw new DdbError('NOT_FOUND', `no endpoint ${request.method} ${request.path}`);
}

export function errorHandler(logger: Logger) {
  return (error: unknown, request: Request, response: Response, _next: NextFunction): void => {
    if (!(error instanceof DdbError)) {
      logger.error('unexpected error', { path: request.path, error: (error as Error)?.stack ?? String(error) });
      reply(response, 500, new DdbError('INTERNAL', 'internal error').toJSON());
      return;
    }
    if (error.code === 'NOT_MASTER' && typeof error.details.master === 'string') {
      // The same path and query on the master: clients that follow redirects
      // (307 keeps the method and body) reach the node that can run it.
      response.setHeader('Location', new URL(request.originalUrl, error.details.master).toString());
    }
    // RFC 9110: a 401 names the scheme to use; curl -u and browsers answer it.
    if (error.code === 'UNAUTHENTICATED') response.setHeader('WWW-Authenticate', 'Basic realm="ddb"');
    reply(response, error.status, error.toJSON());
  };
}
