/**
 * winston logger: human-readable lines on a terminal, JSON lines otherwise (so
 * a log collector can parse them). Every line carries the node id.
 */
import winston from 'winston';

export type Logger = winston.Logger;

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level: LogLevel;
  node_id: number;
  /** Human-readable when true; JSON lines when false. Defaults to "is stdout a TTY". */
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions): Logger {
  // Under `npm start` (all nodes in one terminal) the launcher prefixes each
  // line with the node id already, and its terminal wants readable lines.
  const launched = process.env.DDB_LOCAL_CLUSTER === '1';
  const pretty = options.pretty ?? (Boolean(process.stdout.isTTY) || launched);
  const who = (node_id: unknown) => (launched ? '' : ` [node ${String(node_id)}]`);
  const format = pretty
    ? winston.format.combine(
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.printf(({ timestamp, level, message, node_id, ...rest }) => {
          const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
          return `${String(timestamp)}${who(node_id)} ${level}: ${String(message)}${extra}`;
        }),
      )
    : winston.format.combine(winston.format.timestamp(), winston.format.json());
  return winston.createLogger({
    level: options.level,
    defaultMeta: { node_id: options.node_id },
    format,
    transports: [new winston.transports.Console()],
  });
}

/** A logger that drops everything: for in-process API tests. */
export function createSilentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}
