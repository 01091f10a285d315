/**
 * Request validation as middleware: an ajv schema per body or query string;
 * the first problem becomes 400 INVALID_REQUEST with the ajv path of what is
 * wrong. Both spellings of a table and a database are accepted first
 * (field-spellings.ts). Handlers then read `res.locals.body` /
 * `res.locals.query`, typed, in the schema's spelling.
 */
import Ajv, { type ErrorObject, type Schema } from 'ajv';
import type { NextFunction, Request, Response } from 'express';
import { NAME_PATTERN } from '../database/catalog';
import { DdbError } from '../utils/errors';
import { respell, type Place } from './field-spellings';

const ajv = new Ajv({ allErrors: false, coerceTypes: false, allowUnionTypes: true });

/** The engine's rule for table, column and database names (database/catalog.ts), as a JSON Schema pattern. */
export const IDENTIFIER_PATTERN = NAME_PATTERN.source;

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

/** The error as the client would see it: under the field's name as sent, not as renamed. */
function asSent(error: ErrorObject, sent_as: ReadonlyMap<string, string>): ErrorObject {
  const field = /^\/([^/]*)/.exec(error.instancePath);
  const sent = field === null ? undefined : sent_as.get(field[1]);
  if (field === null || sent === undefined) return error;
  return { ...error, instancePath: `/${sent}${error.instancePath.slice(field[0].length)}` };
}

/** Checks a body or query string (an object); returns it in the schema's spelling. */
function compile(schema: Schema, place: Place) {
  const validate = ajv.compile(schema);
  const known = new Set(Object.keys((schema as { properties?: object }).properties ?? {}));
  return (input: Record<string, unknown>): Record<string, unknown> => {
    const { value, sent_as } = respell(input, place, known);
    if (validate(value)) return value;
    const first = (validate.errors ?? [])[0];
    const { message, path } = first ? describe(asSent(first, sent_as)) : { message: 'invalid request', path: '' };
    throw new DdbError('INVALID_REQUEST', message, { path });
  };
}

/** Validates the JSON body; a missing or non-object body is itself an error. */
export function validateBody(schema: Schema) {
  const check = compile(schema, 'body');
  return (request: Request, response: Response, next: NextFunction): void => {
    const body: unknown = request.body;
    if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new DdbError('INVALID_REQUEST', 'the request body must be a JSON object', { path: '' });
    }
    response.locals.body = check(body as Record<string, unknown>);
    next();
  };
}

export function validateQuery(schema: Schema) {
  const check = compile(schema, 'query');
  return (request: Request, response: Response, next: NextFunction): void => {
    response.locals.query = check({ ...(request.query as Record<string, unknown>) });
    next();
  };
}
