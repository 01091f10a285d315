/** One info line per request: method, path, status and milliseconds. */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../utils/logger';

export function requestLog(logger: Logger) {
  return (request: Request, response: Response, next: NextFunction): void => {
    if (!logger.isInfoEnabled()) {
      next();
      return;
    }
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      const elapsed_ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(`${request.method} ${request.path} ${response.statusCode} ${elapsed_ms.toFixed(1)}ms`, {
        method: request.method,
        path: request.path,
        status: response.statusCode,
        ms: Math.round(elapsed_ms * 10) / 10,
      });
    });
    next();
  };
}
