/**
 * With a users file, every request but /health and /ready (load balancers'
 * probes) must say who it is, before its body is read or acted on: HTTP Basic
 * or `Authorization: Bearer <token>`. The user is left in `res.locals.auth`
 * for the routes, which check the right they need (authorize.ts). Seed 003's
 * `/init_database` may instead carry `user` and `password` in its body: that
 * one request, without an Authorization header, is authenticated after its
 * body is read (bodyCredentials). Without a users file none of this is
 * mounted (src/http/app.ts).
 */
import type { NextFunction, Request, Response } from 'express';
import { unauthenticated, type Authenticator } from '../src/auth/authenticator';

export interface RequestAuth {
  /** null until the request proved a user (the open probes, /init_database before its body is read): the routes' checks then refuse. */
  user: string | null;
  access: Authenticator;
}

const OPEN_PATHS: ReadonlySet<string> = new Set(['/health', '/ready']);
const BODY_CREDENTIALS_PATH = '/init_database';

function pathOf(request: Request): string {
  // Express routes ignore case and a trailing slash; so does this, the same way.
  const path = request.path.toLowerCase();
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

export function authenticate(access: Authenticator) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const path = pathOf(request);
    const header = request.headers.authorization;
    if (OPEN_PATHS.has(path) || (header === undefined && path === BODY_CREDENTIALS_PATH && request.method === 'POST')) {
      // No user yet: a route that checks a right refuses (fails closed), the probes check none.
      response.locals.auth = { user: null, access } satisfies RequestAuth;
      next();
      return;
    }
    access.authenticate(header).then(
      (user) => {
        response.locals.auth = { user, access } satisfies RequestAuth;
        next();
      },
      (error: unknown) => {
        // The body is not read: the answer closes the connection.
        if (!request.complete) response.setHeader('connection', 'close');
        next(error);
      },
    );
  };
}

/** /init_database's `user` and `password`: the credentials when no header gave any; the same user when one did. */
export function bodyCredentials(access: Authenticator) {
  return (request: Request, response: Response, next: NextFunction): void => {
    if (pathOf(request) !== BODY_CREDENTIALS_PATH) {
      next();
      return;
    }
    const body = (request.body ?? {}) as { user?: unknown; password?: unknown };
    const auth = response.locals.auth as RequestAuth;
    if (auth.user !== null) {
      if (typeof body.user === 'string' && body.user !== auth.user) {
        next(unauthenticated(`the body's user '${body.user}' is not '${auth.user}', the user of the Authorization header; give one user`));
        return;
      }
      next();
      return;
    }
    if (typeof body.user !== 'string' || typeof body.password !== 'string') {
      next(unauthenticated('credentials are required: HTTP Basic (curl -u user:password), a bearer token, or "user" and "password" in the body'));
      return;
    }
    access.verifyPassword(body.user, body.password).then(
      (user) => {
        response.locals.auth = { user, access } satisfies RequestAuth;
        next();
      },
      next,
    );
  };
}
