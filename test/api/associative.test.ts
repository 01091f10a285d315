/** /query's rows: arrays by default, objects on request (rqlite's `associative`), for every read of a script. */
import request from 'supertest';
import { startSingleNode, type TestNode } from '../support/single-node';

let test_node: TestNode;
beforeEach(async () => {
  test_node = await startSingleNode();
  await sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b')");
});
afterEach(() => test_node.stop());

function sql(query: string, extra: Record<string, unknown> = {}, path = '/query') {
  return request(test_node.app).post(path).send({ query, ...extra });
}

const OBJECTS = { columns: ['id', 'name'], rows: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }] };

it('gives rows as arrays by default', async () => {
  expect((await sql('SELECT id, name FROM t ORDER BY id')).body).toEqual({ columns: ['id', 'name'], rows: [[1, 'a'], [2, 'b']] });
  expect((await sql('SELECT id, name FROM t ORDER BY id', {}, '/query?associative=false')).body.rows).toEqual([[1, 'a'], [2, 'b']]);
  expect((await sql('SELECT id, name FROM t ORDER BY id', { associative: false }, '/?associative=0')).body.rows[0]).toEqual([1, 'a']);
});

it.each(['/query?associative', '/query?associative=true', '/query?associative=1', '/?associative', '/?associative=1'])(
  '%s gives rows as objects',
  async (path) => {
    expect((await sql('SELECT id, name FROM t ORDER BY id', {}, path)).body).toEqual(OBJECTS);
  },
);

it('"associative": true in the body gives rows as objects, on /query and /', async () => {
  expect((await sql('SELECT id, name FROM t ORDER BY id', { associative: true })).body).toEqual(OBJECTS);
  expect((await sql('SELECT id, name FROM t ORDER BY id', { associative: true }, '/')).body).toEqual(OBJECTS);
  expect((await sql('SELECT id, name FROM t ORDER BY id', { associative: true }, '/query?associative=1')).body).toEqual(OBJECTS);
});

it('turns every read result of a script, local or through the log, and leaves write results alone', async () => {
  const read = await sql('SELECT name FROM t WHERE id = 1; SHOW TABLES', { associative: true });
  expect(read.body).toEqual({
    results: [
      { columns: ['name'], rows: [{ name: 'a' }] },
      { columns: ['name'], rows: [{ name: 't' }] },
    ],
  });
  const write = await sql("INSERT INTO t VALUES (3, 'c'); SELECT count(*) AS n FROM t; UPDATE t SET name = 'z' WHERE id = 3 RETURNING id, name", {
    associative: true,
  });
  expect(write.body).toEqual({
    results: [
      { changes: 1, last_insert_rowid: 3 },
      { columns: ['n'], rows: [{ n: 3 }] },
      { columns: ['id', 'name'], rows: [{ id: 3, name: 'z' }] },
    ],
  });
  expect((await sql("INSERT INTO t VALUES (4, 'd')", { associative: true })).body).toEqual({ changes: 1, last_insert_rowid: 4 });
});

it('keeps every value of duplicate column names: later ones get :1, :2, ... (the first free)', async () => {
  const response = await sql('SELECT 1 AS a, 2 AS a, 3 AS "a:1", 4 AS a, 5 AS __proto__', { associative: true });
  expect(response.body.columns).toEqual(['a', 'a', 'a:1', 'a', '__proto__']);
  expect(response.text).toContain('"rows":[{"a":1,"a:2":2,"a:1":3,"a:3":4,"__proto__":5}]');
});

it.each([
  ['/query?associative=yes', {}, '/associative'],
  ['/query?associative&associative', {}, '/associative'],
  ['/query?associative=1', { associative: false }, '/associative'],
  ['/query', { associative: 'true' }, '/associative'],
])('%s %j is refused', async (path, extra, errorPath) => {
  const response = await sql('SELECT 1', extra, path);
  expect(response.status).toBe(400);
  expect(response.body.error).toMatchObject({ code: 'INVALID_REQUEST', path: errorPath });
});
