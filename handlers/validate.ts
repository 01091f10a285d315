/**
 * Request validation as middleware: an ajv schema per body or query string;
 * the first problem becomes 400 INVALID_REQUEST with the ajv path of what is
 * wrong. Handlers then read `res.locals.body` / `res.locals.query`, typed.
 */
import Ajv, { type ErrorObject, type Schema } from 'ajv';
import type { NextFunction, Request, Response } from 'express';
import { DdbError } from '../utils/errors';

const ajv = new Ajv({ allErrors: false, coerceTypes: false, allowUnionTypes: true });

export const IDENTIFIER_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';

function describe(error: ErrorObject): { message: string; path: string } {
  if (error.keyword === 'additionalProperties') {
    const key = String(error.params.additionalProperty);
    return { message: `unknown field '${key}'`, path: `${error.instancePath}/${key}` };
  }
  if (error.keyword === 'required') {
    const key = String(error.params.missingProperty);
    return { message: `'${key}' is required`, path: `${error.instancePath}/${key}` };
  }
  if (error.keyword === 'pattern' && error.params.pattern === IDENTIFIER_PATTERN) {
    return {
      message: `${error.instancePath || 'value'} must be an identifier: a letter or _ then up to 63 letters, digits or _`,
      path: error.instancePath,
    };
  }
  if (error.keyword === 'pattern' && error.instancePath.startsWith('/data/') === false && error.propertyName) {
    return { message: `field name '${error.propertyName}' is not an identifier`, path: error.instancePath };
  }
  if (error.keyword === 'propertyNames') {
    return { message: `${error.instancePath} has a field name that is not an identifier`, path: error.instancePath };
  }
  return { message: `${error.instancePath || 'body'} ${error.message ?? 'is invalid'}`, path: error.instancePath };
}

function compile(schema: Schema) {
  const validate = ajv.compile(schema);
  return (value: unknown): void => {
    if (validate(value)) return;
    const first = (validate.errors ?? [])[0];
    const { message, path } = first ? describe(first) : { message: 'invalid request', path: '' };
    throw new DdbError('INVALID_REQUEST', message, { path });
  };
}

/** Validates the JSON body; a missing or non-object body is itself an error. */
export function validateBody(schema: Schema) {
  const check = compile(schema);
  return (request: Request, response: Response, next: NextFunction): void => {
    const body: unknown = request.body;
    if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new DdbError('INVALID_REQUEST', 'the request body must be a JSON object', { path: '' });
    }
    check(body);
    response.locals.body = body;
    next();
  };
}

export function validateQuery(schema: Schema) {
  const check = compile(schema);
  return (request: Request, response: Response, next: NextFunction): void => {
    const query = { ...(request.query as Record<string, unknown>) };
    check(query);
    response.locals.query = query;
    next();
  };
}
