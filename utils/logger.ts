/**
 * winston logger: human-readable lines on a terminal, JSON lines otherwise (so
 * a log collector can parse them). Every line carries the node id, or says it
 * comes from the supervisor of a local cluster (`npm start` without a port).
 *
 * DDB_LOG_FORMAT (`pretty` or `json`) overrides the terminal test: the
 * supervisor sets it for its nodes, whose output is a pipe to it, from
 * whether its own output is a terminal.
 */
import winston from 'winston';

export type Logger = winston.Logger;

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level: LogLevel;
  /** The node the lines are about; absent for the supervisor. */
  node_id?: number;
  /** Human-readable when true; JSON lines when false. Defaults to DDB_LOG_FORMAT, else "is stdout a TTY". */
  pretty?: boolean;
}

/** Whether logs should be human-readable lines, unless the caller says. */
export function prettyLogsByDefault(): boolean {
  const format = process.env.DDB_LOG_FORMAT;
  if (format === 'pretty') return true;
  if (format === 'json') return false;
  return Boolean(process.stdout.isTTY);
}

export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? prettyLogsByDefault();
  // Under `npm start` (all nodes in one terminal) the supervisor prefixes each
  // readable line with the node id already.
  const prefixed = process.env.DDB_LOCAL_CLUSTER === '1';
  const who = (node_id: unknown) => (node_id === undefined ? ' ddb' : prefixed ? '' : ` [node ${String(node_id)}]`);
  const format = pretty
    ? winston.format.combine(
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.printf(({ timestamp, level, message, node_id, component: _component, ...rest }) => {
          const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
          return `${String(timestamp)}${who(node_id)} ${level}: ${String(message)}${extra}`;
        }),
      )
    : winston.format.combine(winston.format.timestamp(), winston.format.json());
  return winston.createLogger({
    level: options.level,
    defaultMeta: options.node_id === undefined ? { component: 'supervisor' } : { node_id: options.node_id },
    format,
    transports: [new winston.transports.Console()],
  });
}

/** A logger that drops everything: for in-process API tests. */
export function createSilentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}
