/**
 * Both spellings of a table and a database, in both places: `table`/`db` and
 * `table_name`/`db_name` in query strings and bodies alike. (Two different
 * values for one field are refused: see validation.test.ts.)
 */
import request from 'supertest';
import { startSingleNode, type TestNode } from '../support/single-node';

let test_node: TestNode;
beforeEach(async () => {
  test_node = await startSingleNode();
  await request(test_node.app).post('/init_database').send({ db_name: 'd' });
  await request(test_node.app).post('/init_database').send({ db_name: 'main' });
});
afterEach(() => test_node.stop());

const post = (path: string, body: object) => request(test_node.app).post(path).send(body);
const get = (path: string) => request(test_node.app).get(path);

it('bodies take table and db as well as table_name and db_name', async () => {
  expect((await post('/create_table', { table: 't', db: 'd', columns: ['a'] })).status).toBe(201);
  expect((await post('/insert', { table: 't', db: 'd', row_id: 'r1', data: { a: 1 } })).status).toBe(201);
  expect((await post('/update', { table: 't', db: 'd', row_id: 'r1', new_data: { a: 2 } })).body).toEqual({ row_id: 'r1', a: 2 });
  expect((await post('/query', { query: 'SELECT a FROM t', db: 'd' })).body).toEqual({ columns: ['a'], rows: [[2]] });
  expect((await post('/delete_record', { table: 't', db: 'd', row_id: 'r1' })).status).toBe(200);
  expect((await post('/delete_table', { table: 't', db: 'd' })).status).toBe(200);
  expect((await post('/init_database', { db: 'e' })).status).toBe(201);
});

it('query strings take table_name and db_name as well as table and db', async () => {
  await post('/create_table', { table_name: 't', db_name: 'd', columns: ['a'] });
  expect((await post('/insert?db_name=d', { table_name: 't', row_id: 'r1', data: { a: 1 } })).status).toBe(201);
  expect((await get('/select?table_name=t&db_name=d')).body).toEqual({ rows: [{ row_id: 'r1', a: 1 }], count: 1 });
  expect((await get('/search?table_name=t&db_name=d&column=a&value=1')).body.count).toBe(1);
  expect((await post('/query?db_name=d', { query: 'SELECT count(*) AS n FROM t' })).body.rows).toEqual([[1]]);
});

it('both spellings, or the body and the query string, may give the same value', async () => {
  await post('/create_table', { table_name: 't', table: 't', db_name: 'd', db: 'd', columns: ['a'] });
  expect((await post('/insert?db=d', { table_name: 't', db_name: 'd', row_id: 'r1', data: { a: 1 } })).status).toBe(201);
  expect((await get('/select?table=t&table_name=t&db=d&db_name=d')).body.count).toBe(1);
});

it('an error names the field as it was sent', async () => {
  const response = await post('/insert', { table: 'no such', row_id: 'r1', data: {} });
  expect(response.status).toBe(400);
  expect(response.body.error).toMatchObject({ code: 'INVALID_REQUEST', path: '/table', message: expect.stringMatching(/^\/table /) });
  expect((await get('/select?table_name=1t')).body.error).toMatchObject({ code: 'INVALID_REQUEST', path: '/table_name' });
});

it('two different values for one field are refused, naming both spellings', async () => {
  await post('/create_table', { table_name: 't', columns: ['a'] });
  const body = await post('/insert', { table: 't', table_name: 'u', row_id: 'r1', data: { a: 1 } });
  expect(body.status).toBe(400);
  expect(body.body.error).toEqual({ code: 'INVALID_REQUEST', path: '/table', message: expect.stringMatching(/'table' and 'table_name'.*different/) });
  const query = await get('/select?table=t&table_name=u');
  expect(query.body.error).toEqual({ code: 'INVALID_REQUEST', path: '/table_name', message: expect.stringMatching(/'table_name' and 'table'.*different/) });
  const places = await post('/insert?db=d', { table_name: 't', db_name: 'main', row_id: 'r1', data: { a: 1 } });
  expect(places.body.error).toEqual({ code: 'INVALID_REQUEST', path: '/db_name', message: expect.stringMatching(/'main'.*'d'/) });
  expect((await get('/select?table=t')).body.count).toBe(0);
});
