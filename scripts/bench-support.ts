/** Shared pieces of the benchmarks: autocannon runs, the bare express ceiling, result lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';
import { freePort } from '../test/support/cluster';
import { pollUntil } from '../test/support/poll';
import axios from 'axios';

export interface BenchResult {
  name: string;
  /** Answered requests, of any status. */
  requests: number;
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  non_2xx: number;
  errors: number;
}

export interface LoadOptions {
  name: string;
  url: string;
  connections: number;
  duration_s: number;
  method?: 'GET' | 'POST';
  /** Builds each request's JSON body (called once per request). */
  body?: () => unknown;
  /** Stop after this many requests instead of after duration_s, which then only bounds the run. */
  amount?: number;
}

export async function load(options: LoadOptions): Promise<BenchResult> {
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        // With `amount`, autocannon ignores duration: the timer below bounds the run instead.
        ...(options.amount === undefined ? { duration: options.duration_s } : { amount: options.amount }),
        method: options.method ?? 'GET',
        headers: { 'content-type': 'application/json' },
        requests: options.body === undefined ? undefined : [{ setupRequest: (request) => ({ ...request, body: JSON.stringify(options.body?.()) }) }],
      },
      (error, finished) => {
        clearTimeout(bound);
        if (error !== null && error !== undefined) reject(error);
        else resolve(finished);
      },
    );
    const bound = setTimeout(() => instance.stop(), options.duration_s * 1000 + 1000);
  });
  return {
    name: options.name,
    requests: result.requests.total,
    requests_per_s: Math.round(result.requests.average),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non_2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export function formatResult(result: BenchResult): string {
  const problems = result.non_2xx + result.errors > 0 ? `  (non-2xx ${result.non_2xx}, errors ${result.errors})` : '';
  return `${result.name.padEnd(44)} ${String(result.requests_per_s).padStart(7)} req/s   p50 ${String(result.p50_ms).padStart(4)} ms   p99 ${String(result.p99_ms).padStart(4)} ms${problems}`;
}

/** Starts the bare express ceiling in its own process. */
export async function startBareExpress(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(__dirname, 'bare-express.js'), String(port)], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await pollUntil(async () => (await axios.get(`${url}/ping`)).status === 200, { timeout_ms: 10_000, what: 'bare express to listen' });
  return { url, child };
}
