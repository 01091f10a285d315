#!/usr/bin/env node
/**
 * The `ddb` command (package.json "bin"). One dispatch table of subcommands;
 * the ones DESIGN.md names that are not written yet say so.
 * Exit codes: 0 done, 1 a runtime failure, 2 bad usage or a bad file.
 */
import { ConfigError } from '../../utils/config-error';
import { UsageError } from './cli-args';
import { runUserCommand, USER_USAGE } from './user-command';

type Subcommand = (argv: string[]) => Promise<void>;

const NOT_YET = ['shell', 'status', 'show-all', 'sample', 'backup', 'restore'] as const;

const SUBCOMMANDS: Record<string, Subcommand> = {
  user: (argv) => runUserCommand(argv, (line) => process.stdout.write(`${line}\n`)),
};

const USAGE = `usage: ddb <command> ...
  user     add, remove and change users (ddb user --help)
  (${NOT_YET.join(', ')}: not yet)`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === 'user' && (rest.length === 0 || rest[0] === '--help' || rest[0] === '-h')) {
    process.stdout.write(`${USER_USAGE}\n`);
    return rest.length === 0 ? 2 : 0;
  }
  const subcommand = SUBCOMMANDS[name];
  if (subcommand === undefined) {
    const why = (NOT_YET as readonly string[]).includes(name) ? `'ddb ${name}' is not written yet` : `unknown command '${name}'`;
    process.stderr.write(`ddb: ${why}\n${USAGE}\n`);
    return 2;
  }
  try {
    await subcommand(rest);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`ddb: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`ddb: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
