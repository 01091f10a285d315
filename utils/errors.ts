/**
 * The closed catalogue of errors ddb reports to clients. Every code is declared
 * once, with its HTTP status; handlers throw DdbError and one middleware turns
 * it into `{"error": {"code", "message", ...details}}`. A test keeps the README's
 * table of codes in sync with this list.
 */
export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  UNKNOWN_COLUMN: 400,
  SQL_ERROR: 400,
  VALUE_TOO_LARGE: 400,
  RESULT_TOO_LARGE: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  FORBIDDEN_STATEMENT: 403,
  DATABASE_NOT_FOUND: 404,
  TABLE_NOT_FOUND: 404,
  ROW_NOT_FOUND: 404,
  NOT_FOUND: 404,
  QUERY_TIMEOUT: 408,
  DATABASE_EXISTS: 409,
  TABLE_EXISTS: 409,
  ROW_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  NOT_MASTER: 307,
  NO_MASTER: 503,
  NOT_READY: 503,
  QUOTA_EXCEEDED: 507,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Extra fields carried beside code and message (for example `path` or `master`). */
export type ErrorDetails = Record<string, unknown>;

export class DdbError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'DdbError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = details;
  }

  toJSON(): { error: { code: ErrorCode; message: string } & ErrorDetails } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

/** The wire form of an error, as it travels inside apply results and between nodes. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: ErrorDetails;
}

export function errorFromBody(body: ErrorBody): DdbError {
  return new DdbError(body.code, body.message, body.details ?? {});
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_STATUS, value);
}
