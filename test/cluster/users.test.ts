/**
 * Users and roles on a real 3-node cluster: the same credentials and tokens on
 * every node; a writer's insert through a slave is committed everywhere; a
 * reader's is refused by the slave itself (403) and a wrong password is 401
 * everywhere, changing nothing; a user added with `ddb user` while the
 * cluster runs works within seconds; and the master checks a forwarded write
 * again by its own users file, so a slave whose file says bob may write cannot
 * write for him when the master's says he may only read.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TestCluster } from '../support/cluster';
import { pollUntil } from '../support/poll';
import { writeTestUsers } from '../support/users';

jest.setTimeout(120_000);

const DDB = path.resolve(__dirname, '..', '..', 'dist', 'src', 'cli', 'ddb.js');
const ADMIN = { username: 'root', password: 'root-secret' };
const ALICE = { username: 'alice', password: 'alice-secret' };
const BOB = { username: 'bob', password: 'bob-secret' };

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.destroy();
});

const usersFile = (id: number) => path.join(cluster.dir, `users-${id}.json`);

function ddbUser(args: string[], stdin: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DDB, 'user', ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.once('close', resolve);
    child.stdin.end(stdin);
  });
}

async function start(bob_role: 'reader' | 'writer'): Promise<{ master: number; slaves: number[]; token: string }> {
  cluster = await TestCluster.create({ size: 3, users: { file_of: (id) => `users-${id}.json`, auth: ADMIN } });
  const tokens = await writeTestUsers(usersFile(1), {
    root: { password: ADMIN.password, role: 'admin' },
    alice: { password: ALICE.password, role: 'writer', tokens: 1 },
    bob: { password: BOB.password, role: bob_role },
  });
  // The README's way: the same file copied to every node.
  for (const id of [2, 3]) fs.copyFileSync(usersFile(1), usersFile(id));
  await cluster.startAll();
  const master = await cluster.waitForMaster();
  const created = await cluster.client.post(`${cluster.url(master)}/create_table`, { table_name: 'items', columns: ['name'] }, { auth: ADMIN });
  expect(created.status).toBe(201);
  return { master, slaves: cluster.ids().filter((id) => id !== master), token: tokens.get('alice')?.[0] as string };
}

const insert = (id: number, row_id: string, auth?: { username: string; password: string }) =>
  cluster.client.post(`${cluster.url(id)}/insert`, { table_name: 'items', row_id, data: { name: row_id } }, auth === undefined ? {} : { auth });
const select = (id: number, headers: Record<string, string> | { username: string; password: string }) =>
  cluster.client.get(`${cluster.url(id)}/select?table=items`, 'username' in headers ? { auth: headers as { username: string; password: string } } : { headers });

it('the same credentials and tokens work on every node; writers write through slaves, readers and wrong passwords change nothing', async () => {
  const { slaves, token } = await start('reader');
  const written = await insert(slaves[0] as number, 'by-alice', ALICE);
  expect(written.status).toBe(201);
  const converged = await cluster.waitForConvergence(cluster.ids());
  for (const id of cluster.ids()) {
    const rows = await select(id, ALICE);
    expect({ id, status: rows.status, rows: rows.data.rows }).toEqual({ id, status: 200, rows: [{ row_id: 'by-alice', name: 'by-alice' }] });
    const by_token = await select(id, { Authorization: `Bearer ${token}` });
    expect({ id, status: by_token.status, count: by_token.data.count }).toEqual({ id, status: 200, count: 1 });
    const wrong = await select(id, { username: 'alice', password: 'wrong' });
    expect({ id, status: wrong.status, code: wrong.data.error?.code, challenge: wrong.headers['www-authenticate'] }).toEqual({ id, status: 401, code: 'UNAUTHENTICATED', challenge: 'Basic realm="ddb"' });
    expect((await insert(id, `anonymous-${id}`)).status).toBe(401);
    expect((await insert(id, `wrong-${id}`, { username: 'alice', password: 'wrong' })).status).toBe(401);
    const refused = await insert(id, `by-bob-${id}`, BOB);
    expect({ id, status: refused.status, code: refused.data.error?.code }).toEqual({ id, status: 403, code: 'FORBIDDEN' });
  }
  // The refusals took no log entry: every node is where it was.
  const after = await cluster.waitForConvergence(cluster.ids());
  expect(after.map((status) => [status.applied_index, status.state_hash])).toEqual(converged.map((status) => [status.applied_index, status.state_hash]));

  // A user added with the CLI while the cluster runs, the file copied to every node: in within seconds.
  expect(await ddbUser(['add', 'carol', '--role', 'writer', '--password-stdin', '--users-file', usersFile(1)], 'carol-secret\n')).toBe(0);
  for (const id of [2, 3]) fs.copyFileSync(usersFile(1), usersFile(id));
  for (const id of cluster.ids()) {
    await pollUntil(async () => (await select(id, { username: 'carol', password: 'carol-secret' })).status === 200, { timeout_ms: 10_000, what: `carol to be known on node ${id}` });
  }
  expect((await insert(slaves[1] as number, 'by-carol', { username: 'carol', password: 'carol-secret' })).status).toBe(201);

  // A revoked token stops working on every node.
  const token_id = /^ddb_([a-z0-9]+)_/.exec(token)?.[1] as string;
  expect(await ddbUser(['revoke', 'alice', token_id, '--users-file', usersFile(1)], '')).toBe(0);
  for (const id of [2, 3]) fs.copyFileSync(usersFile(1), usersFile(id));
  for (const id of cluster.ids()) {
    await pollUntil(async () => (await select(id, { Authorization: `Bearer ${token}` })).status === 401, { timeout_ms: 10_000, what: `the token to be refused on node ${id}` });
  }
});

it('the master checks a forwarded write again: a slave that thinks bob may write cannot write for him', async () => {
  const { master, slaves } = await start('writer');
  // The master's own file says bob only reads; the slaves' still say he writes.
  await writeTestUsers(usersFile(master), {
    root: { password: ADMIN.password, role: 'admin' },
    alice: { password: ALICE.password, role: 'writer' },
    bob: { password: BOB.password, role: 'reader' },
    probe: { password: 'probe-secret', role: 'reader' },
  });
  // probe is only in the new file: once it signs in, the master has re-read it (a probe that writes nothing).
  const probe = () => cluster.client.get(`${cluster.url(master)}/status`, { auth: { username: 'probe', password: 'probe-secret' } });
  await pollUntil(async () => (await probe()).status === 200, { timeout_ms: 10_000, what: 'the master to re-read its users file' });
  expect((await insert(master, 'bob-on-master', BOB)).status).toBe(403);
  const before = await cluster.waitForConvergence(cluster.ids());
  for (const slave of slaves) {
    const forwarded = await insert(slave, `bob-via-${slave}`, BOB);
    expect({ slave, status: forwarded.status, code: forwarded.data.error?.code, message: forwarded.data.error?.message }).toEqual({
      slave,
      status: 403,
      code: 'FORBIDDEN',
      message: "user 'bob' (reader) may not do this: it needs writer on database 'main'",
    });
  }
  const after = await cluster.waitForConvergence(cluster.ids());
  expect(after.map((status) => [status.applied_index, status.state_hash])).toEqual(before.map((status) => [status.applied_index, status.state_hash]));
  for (const id of cluster.ids()) expect((await select(id, ALICE)).data.rows).toEqual([]);
  // Alice, a writer on every node, still writes through the same slaves.
  expect((await insert(slaves[0] as number, 'by-alice', ALICE)).status).toBe(201);
});

/** The curl lines of the README's "Users and roles", each with the answer shown after it. */
function readmeExamples(): { command: string; status: number; body: unknown }[] {
  const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Users and roles'), readme.indexOf('## HTTP API'));
  const found = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = (block[1] as string).split('\n');
    for (const [index, line] of lines.entries()) {
      if (!line.startsWith('curl ')) continue;
      const answer = /^# ([0-9]{3}) (.*)$/.exec(lines[index + 1] ?? '');
      if (answer === null) throw new Error(`no answer shown after ${line}`);
      const text = (answer[2] as string).trim();
      found.push({ command: line, status: Number(answer[1]), body: text.includes('…') ? undefined : JSON.parse(text) });
    }
  }
  return found;
}

it("runs the README's users examples as shown, against a cluster whose master is not node 1", async () => {
  const examples = readmeExamples();
  expect(examples.length).toBeGreaterThanOrEqual(6);
  cluster = await TestCluster.create({ size: 3, users: { file_of: () => 'users.json', auth: { username: 'root', password: 'rootsecret' } } });
  const tokens = await writeTestUsers(path.join(cluster.dir, 'users.json'), {
    alice: { password: 'secret', role: 'writer', tokens: 1 },
    bob: { password: 'bobsecret', role: 'reader' },
    root: { password: 'rootsecret', role: 'admin' },
  });
  // Node 2 is master, so examples sent to node 1 (8080) meet a slave, as in readme-examples.test.ts.
  cluster.start(2);
  cluster.start(3);
  expect(await cluster.waitForMaster([2, 3])).toBe(2);
  cluster.start(1);
  await cluster.waitForConvergence([1, 2, 3]);
  for (const example of examples) {
    let command = example.command;
    [8080, 8081, 8082].forEach((port, index) => {
      command = command.replaceAll(`localhost:${port}`, `localhost:${new URL(cluster.url(index + 1)).port}`);
    });
    const output = execFileSync('bash', ['-c', `${command} -w '\\n%{http_code}'`], { encoding: 'utf8', env: { ...process.env, TOKEN: tokens.get('alice')?.[0] } });
    const newline = output.lastIndexOf('\n');
    const seen = { command: example.command, status: Number(output.slice(newline + 1)) };
    expect(seen).toEqual({ command: example.command, status: example.status });
    if (example.body !== undefined) expect({ command: example.command, body: JSON.parse(output.slice(0, newline)) }).toEqual({ command: example.command, body: example.body });
    await cluster.waitForConvergence([1, 2, 3]);
  }
});
