/** Parses `main.js [<port>] [--config F] [--data-dir D] [--in-memory] [--log-level L]`. */
import { LOG_LEVELS, type LogLevel } from '../../utils/logger';

export interface CliArgs {
  /** null: start every node of the config as a local cluster. */
  port: number | null;
  config_file: string;
  data_dir: string | null;
  in_memory: boolean;
  log_level: LogLevel;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = 'usage: npm start -- [<port>] [--config <file>] [--data-dir <dir>] [--in-memory] [--log-level error|warn|info|debug]';

export function parseCliArgs(argv: string[]): CliArgs {
  const args: CliArgs = { port: null, config_file: 'config.json', data_dir: null, in_memory: false, log_level: 'info' };
  const rest = [...argv];
  while (rest.length > 0) {
    const word = rest.shift() as string;
    const valueOf = (flag: string): string => {
      const value = rest.shift();
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return value;
    };
    if (word === '--config') args.config_file = valueOf(word);
    else if (word === '--data-dir') args.data_dir = valueOf(word);
    else if (word === '--in-memory') args.in_memory = true;
    else if (word === '--log-level') args.log_level = parseLogLevel(valueOf(word));
    else if (/^[0-9]+$/.test(word) && args.port === null) args.port = parsePort(word);
    else throw new UsageError(`unexpected argument '${word}'`);
  }
  return args;
}

function parsePort(word: string): number {
  const port = Number(word);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`port ${word} is not between 1 and 65535`);
  return port;
}

function parseLogLevel(word: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(word)) return word as LogLevel;
  throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
}
