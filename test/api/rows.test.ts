/** Seed 003's REST flow and every row/table endpoint, with their error codes. */
import request from 'supertest';
import { startSingleNode, type TestNode } from '../support/single-node';

let test_node: TestNode;
beforeEach(async () => {
  test_node = await startSingleNode();
});
afterEach(() => test_node.stop());

const post = (path: string, body: unknown) => request(test_node.app).post(path).send(body as object);
const get = (path: string) => request(test_node.app).get(path);

describe('seed 003 run verbatim', () => {
  it('creates a database and table, inserts, updates, selects, searches and deletes', async () => {
    const init = await post('/init_database', { db_name: 'DDB0', user: 'root', password: 'rootroot', host: 'localhost:3306' });
    expect(init.status).toBe(201);
    expect(init.body).toEqual({ db_name: 'DDB0', created: true });
    expect((await post('/init_database', { db_name: 'DDB0' })).status).toBe(200);

    expect((await post('/create_table', { table_name: 'students', columns: ['id', 'name', 'grade'] })).status).toBe(201);
    const insert = await post('/insert', { table_name: 'students', row_id: '1', data: { id: '1', name: 'Ahmed', grade: 'A' } });
    expect(insert.status).toBe(201);
    expect(insert.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(insert.headers['content-length'])).toBe(Buffer.byteLength(insert.text));
    expect((await post('/update', { table_name: 'students', row_id: '1', new_data: { grade: 'A+' } })).status).toBe(200);

    const selected = await get('/select?table=students');
    expect(selected.status).toBe(200);
    expect(selected.body).toEqual({ rows: [{ row_id: '1', id: '1', name: 'Ahmed', grade: 'A+' }], count: 1 });

    const found = await get('/search?table=students&column=name&value=Ahmed');
    expect(found.status).toBe(200);
    expect(found.body.count).toBe(1);
    expect(found.body.rows[0].grade).toBe('A+');
    expect((await get('/search?table=students&column=name&value=Nobody')).body).toEqual({ rows: [], count: 0 });

    expect((await post('/delete_record', { table_name: 'students', row_id: '1' })).status).toBe(200);
    expect((await get('/select?table=students')).body.count).toBe(0);
    expect((await post('/delete_table', { table_name: 'students' })).status).toBe(200);
    expect((await get('/select?table=students')).status).toBe(404);
  });
});

describe('row errors', () => {
  beforeEach(async () => {
    await post('/create_table', { table_name: 't', columns: ['a', 'b'] });
    await post('/insert', { table_name: 't', row_id: 'r1', data: { a: 1, b: 'x' } });
  });

  it.each([
    ['/insert', { table_name: 't', row_id: 'r1', data: { a: 2 } }, 409, 'ROW_EXISTS'],
    ['/insert', { table_name: 'missing', row_id: 'r2', data: { a: 2 } }, 404, 'TABLE_NOT_FOUND'],
    ['/insert', { table_name: 't', row_id: 'r2', data: { nope: 2 } }, 400, 'UNKNOWN_COLUMN'],
    ['/insert', { db_name: 'nodb', table_name: 't', row_id: 'r2', data: { a: 2 } }, 404, 'DATABASE_NOT_FOUND'],
    ['/update', { table_name: 't', row_id: 'zz', new_data: { a: 2 } }, 404, 'ROW_NOT_FOUND'],
    ['/update', { table_name: 't', row_id: 'r1', new_data: { nope: 2 } }, 400, 'UNKNOWN_COLUMN'],
    ['/delete_record', { table_name: 't', row_id: 'zz' }, 404, 'ROW_NOT_FOUND'],
    ['/create_table', { table_name: 't', columns: ['a'] }, 409, 'TABLE_EXISTS'],
    ['/delete_table', { table_name: 'zz' }, 404, 'TABLE_NOT_FOUND'],
  ])('POST %s %j → %i %s', async (path, body, status, code) => {
    const response = await post(path, body);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(typeof response.body.error.message).toBe('string');
  });

  it.each([
    ['/select?table=zz', 404, 'TABLE_NOT_FOUND'],
    ['/select?table=t&db=nodb', 404, 'DATABASE_NOT_FOUND'],
    ['/search?table=t&column=nope&value=1', 400, 'UNKNOWN_COLUMN'],
    ['/search?table=t&column=a', 400, 'INVALID_REQUEST'],
    ['/select?table=t&consistency=eventual', 400, 'INVALID_REQUEST'],
    ['/select?table=bad-name', 400, 'INVALID_REQUEST'],
  ])('GET %s → %i %s', async (path, status, code) => {
    const response = await get(path);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
  });

  it('search matches numbers and strings by their text', async () => {
    await post('/insert', { table_name: 't', row_id: 'r2', data: { a: '1', b: 'y' } });
    expect((await get('/search?table=t&column=a&value=1')).body.count).toBe(2);
    expect((await get('/search?table=t&column=row_id&value=r2')).body.rows[0].b).toBe('y');
  });

  it('accepts integer row ids and strong reads', async () => {
    expect((await post('/insert', { table_name: 't', row_id: 7, data: { a: 7 } })).status).toBe(201);
    const strong = await get('/select?table=t&consistency=strong');
    expect(strong.status).toBe(200);
    expect(strong.body.rows.map((row: { row_id: string }) => row.row_id)).toEqual(['7', 'r1']);
  });

  it('keeps databases apart with db_name and ?db=', async () => {
    await post('/init_database', { db_name: 'other' });
    await post('/create_table', { table_name: 't', columns: ['a'] });
    await post('/insert', { table_name: 't', row_id: 'o1', data: { a: 'other' } });
    expect((await get('/select?table=t&db=main')).body.rows.map((row: { row_id: string }) => row.row_id)).toEqual(['r1']);
    expect((await get('/select?table=t')).body.rows.map((row: { row_id: string }) => row.row_id)).toEqual(['o1']);
    const viaQuery = await request(test_node.app).post('/insert?db=main').send({ table_name: 't', row_id: 'm2', data: { a: 2 } });
    expect(viaQuery.status).toBe(201);
    expect((await get('/select?table=t&db=main')).body.count).toBe(2);
  });
});
