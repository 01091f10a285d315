/**
 * Which process listens on a TCP port, so "port in use" can say who holds it.
 * Linux only, from /proc: the listening socket's inode in /proc/net/tcp{,6},
 * then the process with a descriptor on that socket. Returns null wherever
 * that cannot be found (another OS, another user's process, a race).
 */
import fs from 'node:fs';

export interface PortHolder {
  pid: number;
  command: string;
}

const LISTEN_STATE = '0A';

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (local === undefined || fields[3] !== LISTEN_STATE) continue;
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && fields[9] !== undefined) inodes.add(fields[9]);
    }
  }
  return inodes;
}

function holdsSocket(pid: string, sockets: Set<string>): boolean {
  let descriptors: string[];
  try {
    descriptors = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return descriptors.some((descriptor) => {
    try {
      return sockets.has(fs.readlinkSync(`/proc/${pid}/fd/${descriptor}`));
    } catch {
      return false;
    }
  });
}

export function findPortHolder(port: number): PortHolder | null {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return null;
  const sockets = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return null;
  }
  for (const pid of pids) {
    if (!holdsSocket(pid, sockets)) continue;
    let command = '';
    try {
      command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {
      // gone meanwhile: the pid is still worth saying
    }
    return { pid: Number(pid), command };
  }
  return null;
}

/** "port 8080 on 127.0.0.1 is already in use by pid 123 (node dist/src/main.js 8080)". */
export function describePortInUse(host: string, port: number): string {
  const holder = findPortHolder(port);
  const by = holder === null ? '' : ` by pid ${holder.pid}${holder.command === '' ? '' : ` (${holder.command})`}`;
  return `port ${port} on ${host} is already in use${by}; stop that process or choose another port in the config`;
}
