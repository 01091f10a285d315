/**
 * One line per request: method, path, status and milliseconds. Requests to
 * /health, /ready and /status are logged at debug: monitors and load
 * balancers poll them every few seconds, and at info they would bury the
 * requests that change data.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../utils/logger';

const PROBE_PATHS = new Set(['/health', '/ready', '/status']);

export function requestLog(logger: Logger) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const level = PROBE_PATHS.has(request.path) ? 'debug' : 'info';
    if (!logger.isLevelEnabled(level)) {
      next();
      return;
    }
    const started_ns = process.hrtime.bigint();
    response.on('finish', () => {
      const elapsed_ms = Number(process.hrtime.bigint() - started_ns) / 1e6;
      logger.log(level, `${request.method} ${request.path} ${response.statusCode} ${elapsed_ms.toFixed(1)}ms`, {
        method: request.method,
        path: request.path,
        status: response.statusCode,
        ms: Math.round(elapsed_ms * 10) / 10,
      });
    });
    next();
  };
}
