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
  const pretty = options.pretty ?? (Boolean(process.stdout.isTTY) || process.env.FORCE_PRETTY_LOGS === '1');
  const format = pretty
    ? winston.format.combine(
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.printf(({ timestamp, level, message, node_id, ...rest }) => {
          const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
          return `${String(timestamp)} [node ${String(node_id)}] ${level}: ${String(message)}${extra}`;
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
