/**
 * The one place errors become HTTP responses. DdbError carries its own status;
 * body-parser's errors (bad JSON, too large) are mapped to the catalogue; any
 * other error is a bug: logged with its stack, answered 500 INTERNAL.
 */
import type { NextFunction, Request, Response } from 'express';
import { DdbError } from '../utils/errors';
import type { Logger } from '../utils/logger';

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

function fromBodyParser(error: BodyParserError): DdbError | null {
  switch (error.type) {
    case 'entity.parse.failed':
      return new DdbError('INVALID_REQUEST', `malformed JSON body: ${error.message}`, { path: '' });
    case 'entity.too.large':
      return new DdbError('PAYLOAD_TOO_LARGE', `request body is larger than the limit of ${error.limit} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new DdbError('INVALID_REQUEST', error.message, { path: '' });
    default:
      return null;
  }
}

export function notFound(request: Request): never {
  throw new DdbError('NOT_FOUND', `no endpoint ${request.method} ${request.path}`);
}

export function errorHandler(logger: Logger) {
  return (error: unknown, request: Request, response: Response, _next: NextFunction): void => {
    const known = error instanceof DdbError ? error : fromBodyParser(error as BodyParserError);
    if (known === null) {
      logger.error('unexpected error', { path: request.path, error: (error as Error)?.stack ?? String(error) });
      response.status(500).json(new DdbError('INTERNAL', 'internal error').toJSON());
      return;
    }
    if (known.code === 'NOT_MASTER' && typeof known.details.master === 'string') {
      // The same path and query on the master: clients that follow redirects
      // (307 keeps the method and body) reach the node that can run it.
      response.setHeader('Location', new URL(request.originalUrl, known.details.master).toString());
    }
    response.status(known.status).json(known.toJSON());
  };
}
