/**
 * Issue 12's findings against three real nodes, replayed with public requests
 * only: statements that changed one node's connection through the sandbox
 * (EXPLAIN PRAGMA case_sensitive_like / ignore_check_constraints / query_only,
 * to a slave and to the master) and small requests with huge costs (zeroblob).
 * Each is refused with its code, the writes after it behave the same on every
 * node, and at the end every node holds the same rows (compared as /query and
 * /select answers, not only by state_hash).
 */
import { TestCluster } from '../support/cluster';

jest.setTimeout(120_000);

let cluster: TestCluster;
afterAll(async () => {
  await cluster?.destroy();
});

interface Answer {
  status: number;
  data: { error?: { code: string }; rows?: unknown[][]; changes?: number; columns?: string[] };
}

async function sql(id: number, query: string): Promise<Answer> {
  const response = await cluster.client.post(`${cluster.url(id)}/query`, { query });
  return { status: response.status, data: response.data as Answer['data'] };
}

function codeOf(answer: Answer): string {
  return answer.data.error?.code ?? `HTTP ${answer.status}`;
}

/** Every node's answer to the same read, once they have applied the same entries. */
async function everyNode(query: string): Promise<unknown[]> {
  await cluster.waitForConvergence(cluster.ids());
  return Promise.all(cluster.ids().map(async (id) => (await sql(id, query)).data));
}

async function expectSameEverywhere(query: string): Promise<unknown> {
  const answers = await everyNode(query);
  for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0]);
  return answers[0];
}

let master: number;
let slaves: number[];

beforeAll(async () => {
  cluster = await TestCluster.create({ size: 3, log_entries_max: 20 });
  await cluster.startAll();
  master = await cluster.waitForMaster();
  slaves = cluster.ids().filter((id) => id !== master);
  const created = await sql(master, 'CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, age INTEGER CHECK (age >= 0))');
  expect(created.status).toBe(200);
  const inserted = await sql(slaves[0], "INSERT INTO people (name, age) VALUES ('Nour', 1), ('Nadia', 2), ('Noah', 3), ('nabil', 4), ('Omar', 5)");
  expect(inserted.data.changes).toBe(5);
});

test('EXPLAIN PRAGMA case_sensitive_like=ON to a slave is refused, and the LIKE update changes the same rows on every node', async () => {
  for (const attack of ['EXPLAIN PRAGMA case_sensitive_like=ON', 'EXPLAIN QUERY PLAN PRAGMA "case_sensitive_like" = 1', "PRAGMA 'case_sensitive_like' = ON"]) {
    expect({ attack, code: codeOf(await sql(slaves[0], attack)) }).toEqual({ attack, code: 'FORBIDDEN_STATEMENT' });
  }
  const updated = await sql(slaves[1], "UPDATE people SET age = age + 100 WHERE name LIKE 'N%'");
  expect(updated.data.changes).toBe(4);
  expect(await expectSameEverywhere("SELECT count(*) FROM people WHERE name LIKE 'n%'")).toEqual({ columns: ['count(*)'], rows: [[4]] });
  expect(await expectSameEverywhere('SELECT name, age FROM people ORDER BY id')).toMatchObject({
    rows: [['Nour', 101], ['Nadia', 102], ['Noah', 103], ['nabil', 104], ['Omar', 5]],
  });
});

test('EXPLAIN PRAGMA ignore_check_constraints=ON to a slave is refused, and every node refuses the row the CHECK refuses', async () => {
  expect(codeOf(await sql(slaves[0], 'EXPLAIN PRAGMA ignore_check_constraints=ON'))).toBe('FORBIDDEN_STATEMENT');
  expect(codeOf(await sql(slaves[0], 'PRAGMA [ignore_check_constraints] = 1'))).toBe('FORBIDDEN_STATEMENT');
  expect(codeOf(await sql(slaves[0], "INSERT INTO people (name, age) VALUES ('minus', -1)"))).toBe('SQL_ERROR');
  expect(await expectSameEverywhere("SELECT count(*) FROM people WHERE name = 'minus'")).toEqual({ columns: ['count(*)'], rows: [[0]] });
});

test('EXPLAIN PRAGMA query_only=ON to a slave is refused, and acknowledged inserts stay on every node after a snapshot covers them', async () => {
  expect(codeOf(await sql(slaves[1], 'EXPLAIN PRAGMA query_only=ON'))).toBe('FORBIDDEN_STATEMENT');
  expect(codeOf(await sql(slaves[1], 'PRAGMA `query_only` = 1'))).toBe('FORBIDDEN_STATEMENT');
  for (let i = 0; i < 50; i++) {
    const answer = await sql(i % 2 === 0 ? master : slaves[1], `INSERT INTO people (name, age) VALUES ('q${i}', ${i})`);
    expect({ i, status: answer.status }).toEqual({ i, status: 200 });
  }
  const statuses = await cluster.waitForConvergence(cluster.ids());
  for (const status of statuses) expect(status.snapshot_index).toBeGreaterThan(20);
  expect(await expectSameEverywhere("SELECT count(*) FROM people WHERE name LIKE 'q%'")).toEqual({ columns: ['count(*)'], rows: [[50]] });
});

test('EXPLAIN PRAGMA query_only=ON to the master is refused, and its clients’ writes succeed', async () => {
  expect(codeOf(await sql(master, 'EXPLAIN PRAGMA query_only=ON'))).toBe('FORBIDDEN_STATEMENT');
  expect(codeOf(await sql(master, 'PRAGMA main.query_only = 1'))).toBe('FORBIDDEN_STATEMENT');
  const written = await sql(master, "INSERT INTO people (name, age) VALUES ('after', 1)");
  expect({ status: written.status, changes: written.data.changes }).toEqual({ status: 200, changes: 1 });
  expect(await expectSameEverywhere("SELECT count(*) FROM people WHERE name = 'after'")).toEqual({ columns: ['count(*)'], rows: [[1]] });
});

test('zeroblob of 200 MB in an insert, of 450 and 400 MB in a select: refused at once with VALUE_TOO_LARGE', async () => {
  const started = Date.now();
  expect(codeOf(await sql(slaves[0], "INSERT INTO people (name, age) VALUES ('big', 1), (zeroblob(200000000), 2)"))).toBe('VALUE_TOO_LARGE');
  expect(codeOf(await sql(slaves[0], 'SELECT zeroblob(450000000)'))).toBe('VALUE_TOO_LARGE');
  expect(codeOf(await sql(master, 'SELECT zeroblob(400000000)'))).toBe('VALUE_TOO_LARGE');
  expect(codeOf(await sql(slaves[1], "SELECT length(printf('%.*c', 400000000, 'x'))"))).toBe('VALUE_TOO_LARGE');
  expect(codeOf(await sql(slaves[1], 'WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 100) SELECT zeroblob(1000000) FROM c'))).toBe('RESULT_TOO_LARGE');
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(await expectSameEverywhere("SELECT count(*) FROM people WHERE name = 'big'")).toEqual({ columns: ['count(*)'], rows: [[0]] });
});

test('at the end every node holds the same rows, by /query and by /select', async () => {
  const rows = (await expectSameEverywhere('SELECT * FROM people ORDER BY id')) as { rows: unknown[][] };
  expect(rows.rows).toHaveLength(5 + 50 + 1);
  await cluster.waitForConvergence(cluster.ids());
  const selects = await Promise.all(cluster.ids().map(async (id) => (await cluster.client.get(`${cluster.url(id)}/select?table=people`)).data));
  expect(selects[0]).toMatchObject({ count: 56 });
  for (const select of selects.slice(1)) expect(select).toEqual(selects[0]);
});
