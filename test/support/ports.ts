/**
 * Ports for the nodes a test starts. A port from listen(0) is an ephemeral
 * one, and between the test choosing it and the node (seconds later on a
 * loaded machine) listening on it, any outgoing connection of any process may
 * take it as its local port: the node then fails with EADDRINUSE. Ports below
 * the kernel's ephemeral range are never given to outgoing connections, so
 * only another test could take one; each jest worker draws from a slice of its
 * own, starting at a random place, and checks the port is free.
 */
import fs from 'node:fs';
import net from 'node:net';

/** The lowest port tests use; the slices lie between it and the ephemeral range. */
const TEST_PORTS_LOW = 10_000;
const SLICE_PORTS = 1_000;
/** Linux's default when /proc cannot be read. */
const EPHEMERAL_LOW_DEFAULT = 32_768;

function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : EPHEMERAL_LOW_DEFAULT;
  } catch {
    return EPHEMERAL_LOW_DEFAULT;
  }
}

/** This process's slice: jest workers are numbered from 1, any other process (a script) is 0. */
function slice(): { low: number; size: number } | null {
  const slices = Math.floor((ephemeralLow() - TEST_PORTS_LOW) / SLICE_PORTS);
  if (slices < 1) return null;
  const worker = Number(process.env.JEST_WORKER_ID ?? 0);
  return { low: TEST_PORTS_LOW + (Number.isInteger(worker) && worker >= 0 ? worker % slices : 0) * SLICE_PORTS, size: SLICE_PORTS };
}

let next_offset: number | null = null;

function listenOnce(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(null));
    server.listen(port, host, () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

/** A port no one listens on now, outside the ephemeral range where it can be. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const own = slice();
  if (own !== null) {
    next_offset ??= Math.floor(Math.random() * own.size);
    for (let tried = 0; tried < own.size; tried += 1) {
      const port = own.low + (next_offset % own.size);
      next_offset += 1;
      if ((await listenOnce(port, host)) !== null) return port;
    }
  }
  const port = await listenOnce(0, host);
  if (port === null) throw new Error(`no free port on ${host}`);
  return port;
}
