/**
 * The README's curl examples, run with real curl against a real 3-node
 * cluster in which node 2 is master, so that every example sent to node 1
 * (port 8080 in the README) meets a slave. Each example runs exactly as
 * written, in order; only `localhost:808N` becomes the test node's port, and
 * `-w` is added to learn the status. Where the README shows an answer
 * (`# 201 {...}`) the status and the JSON body must be exactly that; an
 * answer shown with `…` is checked for its status only, and an example shown
 * without an answer must answer 200.
 *
 * Between two examples the test waits until every node has applied the
 * same entries, as a person typing them would: a local read on a slave may
 * otherwise lag a heartbeat behind the write before it (README: Reads).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TestCluster } from '../support/cluster';

jest.setTimeout(90_000);

const README = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
const README_PORTS = [8080, 8081, 8082];

interface Example {
  command: string;
  status: number | null;
  body: unknown;
}

/** `# 201 {"a":1}   (prose)` → status and body; `# 200 {…}` → status only. */
function parseAnswer(comment: string): { status: number; body: unknown } | null {
  const match = /^# ([0-9]{3})\b ?(.*)$/.exec(comment.trim());
  if (match === null) return null;
  const rest = (match[2] as string).trim();
  const json = rest.startsWith('{') ? rest.slice(0, rest.lastIndexOf('}') + 1) : '';
  try {
    return { status: Number(match[1]), body: json === '' ? undefined : JSON.parse(json) };
  } catch {
    return { status: Number(match[1]), body: undefined }; // an answer abridged with …
  }
}

/** Every curl line of the sh blocks under "## HTTP API", with the answer shown after it. */
function examples(): Example[] {
  const section = README.slice(README.indexOf('## HTTP API'), README.indexOf('## How it works'));
  const found: Example[] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = (block[1] as string).split('\n');
    lines.forEach((line, index) => {
      if (!line.startsWith('curl ')) return;
      const answer = parseAnswer(lines[index + 1] ?? '');
      found.push({ command: line, status: answer?.status ?? null, body: answer?.body });
    });
  }
  return found;
}

let cluster: TestCluster;
afterAll(async () => {
  await cluster?.destroy();
});

it('every curl example of the README answers as shown, with node 2 as master', async () => {
  const all = examples();
  expect(all.length).toBeGreaterThanOrEqual(15);
  cluster = await TestCluster.create({ size: 3 });
  cluster.start(2);
  cluster.start(3);
  expect(await cluster.waitForMaster([2, 3])).toBe(2);
  cluster.start(1);
  await cluster.waitForConvergence([1, 2, 3]);
  expect(await cluster.waitForMaster()).toBe(2);

  for (const example of all) {
    let command = example.command;
    README_PORTS.forEach((port, index) => {
      command = command.replaceAll(`localhost:${port}`, `localhost:${new URL(cluster.url(index + 1)).port}`);
    });
    const output = execFileSync('bash', ['-c', `${command} -w '\\n%{http_code}'`], { encoding: 'utf8' });
    const status = Number(output.slice(output.lastIndexOf('\n') + 1));
    const text = output.slice(0, output.lastIndexOf('\n'));
    const seen = { command: example.command, status, body: JSON.parse(text) as unknown };
    const expected = { command: example.command, status: example.status ?? seen.status, body: example.body ?? seen.body };
    expect(seen).toEqual(expected);
    // An example shown without its answer must at least succeed.
    if (example.status === null) expect({ command: example.command, status }).toEqual({ command: example.command, status: 200 });
    await cluster.waitForConvergence([1, 2, 3]);
  }
});
