/**
 * Where `ddb user` reads a password: a hidden prompt on the terminal (asked
 * twice), or all of standard input with `--password-stdin` (one trailing
 * newline dropped). Never the command line, where `ps` and shell history see it.
 */
import { UsageError } from './cli-args';

export async function passwordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (text.length === 0) throw new UsageError('--password-stdin read an empty password');
  return text;
}

function hiddenPrompt(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stderr.write(question);
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    let typed = '';
    const done = (error: Error | null) => {
      input.setRawMode(false);
      input.pause();
      input.removeListener('data', onData);
      process.stderr.write('\n');
      if (error === null) resolve(typed);
      else reject(error);
    };
    const onData = (text: string) => {
      for (const character of text) {
        if (character === '\r' || character === '\n' || character === '\u0004') return done(null);
        if (character === '\u0003') return done(new UsageError('cancelled'));
        if (character === '\u007f' || character === '\b') typed = typed.slice(0, -1);
        else typed += character;
      }
    };
    input.on('data', onData);
  });
}

export async function readNewPassword(from_stdin: boolean): Promise<string> {
  if (from_stdin) return passwordFromStdin();
  if (!process.stdin.isTTY) throw new UsageError('no terminal to ask for the password on; pipe it in with --password-stdin');
  const first = await hiddenPrompt('password: ');
  if (first.length === 0) throw new UsageError('the password is empty');
  const second = await hiddenPrompt('again: ');
  if (first !== second) throw new UsageError('the passwords differ');
  return first;
}
