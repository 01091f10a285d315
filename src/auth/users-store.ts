/**
 * Writing the users file, for `ddb user`: atomically (a temporary file beside
 * it, fsynced, renamed over it, the directory fsynced), mode 0600, so a node
 * that re-reads it sees the old file or the new one, never half of one.
 * Two `ddb user` commands at once take turns (withUsersFileLock), so neither
 * loses the other's change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../utils/config-error';
import { parseUsers, readUsersFile, type UsersFile } from './users-file';

/** The file's users, or none when it does not exist yet. */
export function readOrEmpty(file: string): UsersFile {
  if (!fs.existsSync(file)) return { users: {} };
  return readUsersFile(file);
}

export function writeUsersFile(file: string, users: UsersFile): void {
  parseUsers(users, file); // never write a file a node would refuse
  const directory = path.dirname(file);
  if (!fs.existsSync(directory)) throw new ConfigError(`the directory of users file ${file} does not exist`);
  const temporary = path.join(directory, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const descriptor = fs.openSync(temporary, 'wx', 0o600);
  try {
    fs.writeSync(descriptor, `${JSON.stringify(users, null, 2)}\n`);
    fs.fchmodSync(descriptor, 0o600);
    fs.fsyncSync(descriptor);
  } finally {
    fs.closeSync(descriptor);
  }
  try {
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  const directory_descriptor = fs.openSync(directory, 'r');
  try {
    fs.fsyncSync(directory_descriptor);
  } finally {
    fs.closeSync(directory_descriptor);
  }
}

const LOCK_WAIT_MS = 10_000;
/** A lock older than this was left by a command that died: taken over. */
const LOCK_STALE_MS = 60_000;

/** Runs a read-modify-write of the users file holding `<file>.lock` (made with O_EXCL), waiting up to 10 s for it. */
export async function withUsersFileLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const deadline_ms = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(lock, 'wx', 0o600));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age_ms = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age_ms > LOCK_STALE_MS) fs.rmSync(lock, { force: true });
      else if (Date.now() > deadline_ms) throw new ConfigError(`users file ${file} is locked by another ddb user command (${lock}); try again, or remove the lock if no such command runs`);
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}
