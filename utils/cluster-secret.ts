/**
 * The cluster secret: the key peers prove to each other that they belong to
 * the cluster. It lives in `cluster_secret_file` (default `cluster.key` beside
 * config.json). When that file does not exist, the first node to start makes
 * it, so a fresh clone needs no setup step; nodes on other machines get a copy.
 *
 * Creation must be atomic, because the nodes of `npm start` all start at once
 * and must end with one key: each writes its own random key to a temporary
 * file of its own, fsyncs it, then link()s it to the key's name. link() fails
 * with EEXIST when the name exists (O_EXCL semantics, on every local file
 * system), so exactly one node's key is published, and it is published whole;
 * every other node finds EEXIST and reads the winner's file. A rename() would
 * not do: it replaces an existing file, so two nodes could each keep their own.
 *
 * A key file someone else made is checked before use: a regular file, mode
 * without group or other access (like ssh's private keys), at least 32 bytes.
 * Every problem is a ConfigError (exit code 2) saying how to fix it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config-error';
import type { ClusterConfig } from './config';

export const CLUSTER_SECRET_BYTES = 32;
export const CLUSTER_SECRET_BYTES_MIN = 32;
/** A key file is small; anything this big is the wrong file. */
export const CLUSTER_SECRET_BYTES_MAX = 64 * 1024;
/** Read, create, and read again when another node won the race: a file deleted meanwhile gets this many tries. */
const ATTEMPTS_MAX = 3;

const MAKE_ONE = (file: string) => `head -c ${CLUSTER_SECRET_BYTES} /dev/urandom > ${file} && chmod 600 ${file}`;

/** The secret of `config.cluster_secret_file`, created there when it does not exist. */
export function loadClusterSecret(config: Pick<ClusterConfig, 'cluster_secret_file'>): Buffer {
  const file = config.cluster_secret_file;
  for (let attempt = 1; attempt <= ATTEMPTS_MAX; attempt += 1) {
    const existing = readKeyFile(file);
    if (existing !== null) return existing;
    const created = createKeyFile(file);
    if (created !== null) return created;
  }
  throw new ConfigError(`cluster key ${file} exists but cannot be opened (a symbolic link to nowhere, or deleted as ddb read it); point cluster_secret_file at the key file`);
}

/** The checked contents of the key file; null when there is none. */
function readKeyFile(file: string): Buffer | null {
  let descriptor: number;
  try {
    descriptor = fs.openSync(file, fs.constants.O_RDONLY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new ConfigError(`cannot read cluster key ${file}: ${describeErrno(error)}`);
  }
  try {
    checkKeyFile(file, fs.fstatSync(descriptor));
    const key = fs.readFileSync(descriptor);
    if (key.length < CLUSTER_SECRET_BYTES_MIN) {
      throw new ConfigError(`cluster key ${file} has ${key.length} bytes, fewer than ${CLUSTER_SECRET_BYTES_MIN}; copy the key of the other nodes here, or, for a new cluster, delete it and ddb makes one (or: ${MAKE_ONE(file)})`);
    }
    return key;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot read cluster key ${file}: ${describeErrno(error)}`);
  } finally {
    fs.closeSync(descriptor);
  }
}

function checkKeyFile(file: string, stats: fs.Stats): void {
  if (!stats.isFile()) throw new ConfigError(`cluster key ${file} is not a regular file; point cluster_secret_file at the key file`);
  if ((stats.mode & 0o077) !== 0) {
    const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
    throw new ConfigError(`cluster key ${file} can be read or changed by other users (mode ${mode}); make it private to this user: chmod 600 ${file}`);
  }
  if (stats.size > CLUSTER_SECRET_BYTES_MAX) {
    throw new ConfigError(`cluster key ${file} has ${stats.size} bytes, more than ${CLUSTER_SECRET_BYTES_MAX}: is cluster_secret_file the right file?`);
  }
}

/** A new key published under `file`; null when another node published one first (then read theirs). */
function createKeyFile(file: string): Buffer | null {
  const key = randomBytes(CLUSTER_SECRET_BYTES);
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    try {
      writePrivateFile(temporary, key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
      throw new ConfigError(`cannot create cluster key ${file}: ${describeErrno(error)}; or make the key yourself: ${MAKE_ONE(file)}`);
    }
    try {
      fs.linkSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
      throw new ConfigError(`cannot create cluster key ${file}: link() failed (${(error as Error).message}), and ddb needs it to create the key atomically; make the key yourself: ${MAKE_ONE(file)}`);
    }
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  syncDirectory(path.dirname(file));
  return key;
}

/** Mode 0600 from the first byte (never readable by others, whatever the umask), fsynced. */
function writePrivateFile(file: string, contents: Buffer): void {
  const descriptor = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try {
    fs.fchmodSync(descriptor, 0o600);
    fs.writeSync(descriptor, contents);
    fs.fsyncSync(descriptor);
  } finally {
    fs.closeSync(descriptor);
  }
}

/** The new name survives a crash once its directory is fsynced. */
function syncDirectory(directory: string): void {
  const descriptor = fs.openSync(directory, fs.constants.O_RDONLY);
  try {
    fs.fsyncSync(descriptor);
  } finally {
    fs.closeSync(descriptor);
  }
}

function describeErrno(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return `permission denied for the user this node runs as (uid ${process.getuid?.() ?? '?'}); give that user the file (chown) or run the node as its owner`;
  if (code === 'ENOENT') return 'its directory does not exist; create the directory or change cluster_secret_file';
  if (code === 'EISDIR') return 'it is a directory; point cluster_secret_file at the key file';
  if (code === 'EROFS') return 'the file system is read-only; make the key elsewhere and point cluster_secret_file at it';
  return (error as Error).message;
}
