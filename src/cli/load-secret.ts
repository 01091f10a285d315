/**
 * Until the configurable secret file lands: the cluster secret is
 * `cluster.key` beside config.json, created by the first node that finds
 * none (32 random bytes, mode 0600). Created atomically: written to a
 * temporary file, then linked into place, which fails if another node got
 * there first; that node's key is then read. So nodes starting together agree.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const SECRET_BYTES = 32;

export function clusterSecretBeside(config_file: string): Buffer {
  const file = path.join(path.dirname(path.resolve(config_file)), 'cluster.key');
  if (!fs.existsSync(file)) {
    const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(temporary, randomBytes(SECRET_BYTES), { mode: 0o600 });
    try {
      fs.linkSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      fs.rmSync(temporary, { force: true });
    }
  }
  const secret = fs.readFileSync(file);
  if (secret.length < SECRET_BYTES) throw new Error(`${file} holds ${secret.length} bytes; a cluster key has at least ${SECRET_BYTES}`);
  return secret;
}
