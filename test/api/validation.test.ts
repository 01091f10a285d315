/** Bad input: every rejected request gets the contract's error shape and leaves the data exactly as it was. */
import request from 'supertest';
import { startSingleNode, type TestNode } from '../support/single-node';

let test_node: TestNode;
beforeEach(async () => {
  test_node = await startSingleNode({ body_limit_bytes: 4096 });
  await request(test_node.app).post('/create_table').send({ table_name: 't', columns: ['a'] });
  await request(test_node.app).post('/insert').send({ table_name: 't', row_id: 'r1', data: { a: 1 } });
});
afterEach(() => test_node.stop());

type Case = [string, string, string | object | undefined, number, string, string?];
/** Padded to six fields: jest passes `done` to a callback with more parameters than the row has. */
const padded = (rows: Case[]) => rows.map((row) => [row[0], row[1], row[2], row[3], row[4], row[5] ?? null] as const);

const cases: Case[] = [
  ['POST', '/insert', '{"table_name": "t", ', 400, 'INVALID_REQUEST'],
  ['POST', '/insert', '[1,2]', 400, 'INVALID_REQUEST'],
  ['POST', '/insert', undefined, 400, 'INVALID_REQUEST'],
  ['POST', '/insert', { table_name: 't', row_id: 'r2', data: { a: 'x'.repeat(5000) } }, 413, 'PAYLOAD_TOO_LARGE'],
  ['POST', '/insert', { table_name: 't', row_id: 'r2' }, 400, 'INVALID_REQUEST', '/data'],
  ['POST', '/insert', { table_name: 't', row_id: 'r2', data: { a: { nested: 1 } } }, 400, 'INVALID_REQUEST', '/data/a'],
  ['POST', '/insert', { table_name: 't', row_id: 'r2', data: { a: 1 }, extra: 1 }, 400, 'INVALID_REQUEST', '/extra'],
  ['POST', '/insert', { table_name: 'drop table t', row_id: 'r2', data: {} }, 400, 'INVALID_REQUEST', '/table_name'],
  ['POST', '/insert', { table_name: 't', row_id: '', data: {} }, 400, 'INVALID_REQUEST', '/row_id'],
  ['POST', '/insert', { table_name: 't', row_id: 'r2', data: { 'a b': 1 } }, 400, 'INVALID_REQUEST', '/data'],
  ['POST', '/insert?db=x;y', { table_name: 't', row_id: 'r2', data: { a: 1 } }, 400, 'INVALID_REQUEST', '/db'],
  ['POST', '/update', { table_name: 't', row_id: 'r1', new_data: {} }, 400, 'INVALID_REQUEST', '/new_data'],
  ['POST', '/create_table', { table_name: 't2', columns: [] }, 400, 'INVALID_REQUEST', '/columns'],
  ['POST', '/create_table', { table_name: 't2', columns: ['ok', '1bad'] }, 400, 'INVALID_REQUEST', '/columns/1'],
  ['POST', '/create_table', { table_name: 't2', columns: ['row_id'] }, 400, 'INVALID_REQUEST', '/columns/0'],
  ['POST', '/create_table', { table_name: 't2', columns: ['a', 'row_id'] }, 400, 'INVALID_REQUEST', '/columns/1'],
  ['POST', '/create_table', { table_name: 't2', columns: ['a', 'Row_Id'] }, 400, 'INVALID_REQUEST', '/columns/1'],
  ['POST', '/create_table', { table_name: 't2', columns: ['a', 'A'] }, 400, 'INVALID_REQUEST', '/columns/1'],
  ['POST', '/create_table', { table_name: 't2', columns: ['a', 'b', 'B'] }, 400, 'INVALID_REQUEST', '/columns/2'],
  ['POST', '/init_database', { db_name: 42 }, 400, 'INVALID_REQUEST', '/db_name'],
  ['POST', '/query', { query: '' }, 400, 'INVALID_REQUEST', '/query'],
  ['POST', '/query', { query: 'SELECT 1', command: 'run' }, 400, 'INVALID_REQUEST', '/command'],
  ['POST', '/query', { query: 'SELECT ?; SELECT ?', params: [1, 2] }, 400, 'INVALID_REQUEST'],
  ['POST', '/query', { query: 'DELETE FROM t; ATTACH DATABASE "x" AS y' }, 403, 'FORBIDDEN_STATEMENT'],
  ['GET', '/select', undefined, 400, 'INVALID_REQUEST', '/table'],
  ['GET', '/select?table=t&table=u', undefined, 400, 'INVALID_REQUEST', '/table'],
  ['GET', '/select?table=t&unknown=1', undefined, 400, 'INVALID_REQUEST', '/unknown'],
  // Two spellings of one field, or the body and the query string, with different values.
  ['POST', '/insert', { table: 't', table_name: 'u', row_id: 'r2', data: { a: 1 } }, 400, 'INVALID_REQUEST', '/table'],
  ['POST', '/insert', { table_name: 't', db: 'main', db_name: 'other', row_id: 'r2', data: { a: 1 } }, 400, 'INVALID_REQUEST', '/db'],
  ['POST', '/insert?db=other', { table_name: 't', db_name: 'main', row_id: 'r2', data: { a: 1 } }, 400, 'INVALID_REQUEST', '/db_name'],
  ['POST', '/insert?db=main&db_name=other', { table_name: 't', row_id: 'r2', data: { a: 1 } }, 400, 'INVALID_REQUEST', '/db_name'],
  ['POST', '/query?db=other', { query: 'DELETE FROM t', db_name: 'main' }, 400, 'INVALID_REQUEST', '/db_name'],
  ['POST', '/delete_table', { table_name: 't', table: 'u' }, 400, 'INVALID_REQUEST', '/table'],
  ['GET', '/select?table=t&table_name=u', undefined, 400, 'INVALID_REQUEST', '/table_name'],
  ['POST', '/insert?table=t', { table_name: 't', row_id: 'r2', data: { a: 1 } }, 400, 'INVALID_REQUEST', '/table'],
  ['GET', '/nowhere', undefined, 404, 'NOT_FOUND'],
  ['POST', '/select', {}, 404, 'NOT_FOUND'],
];

describe('rejected requests', () => {
  it.each(padded(cases))('%s %s (case %#) → %i %s', async (method, path, body, status, code, errorPath) => {
    const imageBefore = Buffer.from(test_node.node.engine.snapshot());
    const rowsBefore = test_node.node.engine.select(null, 't');
    let call = method === 'GET' ? request(test_node.app).get(path) : request(test_node.app).post(path);
    if (typeof body === 'string') call = call.set('content-type', 'application/json').send(body);
    else if (body !== undefined) call = call.send(body);
    const response = await call;
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
    if (errorPath !== null) expect(response.body.error.path).toBe(errorPath);
    expect(Buffer.from(test_node.node.engine.snapshot()).equals(imageBefore)).toBe(true);
    expect(test_node.node.engine.select(null, 't')).toEqual(rowsBefore);
    // The node keeps serving.
    expect((await request(test_node.app).get('/select?table=t')).status).toBe(200);
  });
});

it('a /create_table the engine would refuse is refused before it takes a log entry', async () => {
  const before = test_node.node.status().commit_index;
  const response = await request(test_node.app).post('/create_table').send({ table_name: 't2', columns: ['a', 'row_id'] });
  expect(response.body.error).toMatchObject({ code: 'INVALID_REQUEST', path: '/columns/1' });
  expect(test_node.node.status().commit_index).toBe(before);
});
