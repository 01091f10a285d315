/**
 * Fuzzed input against a real single node: random bodies, query strings,
 * identifiers and SQL for every endpoint. Never a 5xx, always the contract's
 * error shape, and a rejected request leaves the data byte-for-byte as it was.
 * FUZZ_RUNS sets the number of runs per property (CI-sized by default).
 */
import fc from 'fast-check';
import request from 'supertest';
import { startSingleNode, type TestNode } from '../support/single-node';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
jest.setTimeout(120_000);

let test_node: TestNode;
beforeAll(async () => {
  test_node = await startSingleNode({ body_limit_bytes: 16_384 });
  await request(test_node.app).post('/create_table').send({ table_name: 't', columns: ['a', 'b'] });
  await request(test_node.app).post('/insert').send({ table_name: 't', row_id: 'r1', data: { a: 1, b: 'x' } });
  await request(test_node.app).post('/query').send({ query: 'CREATE TABLE s (id INTEGER PRIMARY KEY, v TEXT)' });
});
afterAll(() => test_node.stop());

const POST_PATHS = ['/init_database', '/create_table', '/insert', '/update', '/delete_record', '/delete_table', '/query', '/'];
const GET_PATHS = ['/select', '/search', '/status', '/health'];

const identifierish = fc.oneof(
  fc.constantFrom('t', 's', 'a', 'b', 'row_id', 'main', 'missing', 'T', '_x', 'sqlite_master'),
  fc.string({ maxLength: 70 }),
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,70}$/),
);
const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const anyJson = fc.jsonValue({ maxDepth: 3 });
const rowData = fc.dictionary(identifierish, fc.oneof(scalar, anyJson), { maxKeys: 4 });

const bodyFor = fc.record(
  {
    db_name: fc.oneof(identifierish, anyJson),
    table_name: fc.oneof(identifierish, anyJson),
    row_id: fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), anyJson),
    data: fc.oneof(rowData, anyJson),
    new_data: fc.oneof(rowData, anyJson),
    columns: fc.oneof(fc.array(identifierish, { maxLength: 4 }), anyJson),
    query: fc.oneof(sqlText(), anyJson),
    params: fc.oneof(fc.array(scalar, { maxLength: 3 }), anyJson),
    command: fc.oneof(fc.constantFrom('exec', 'query'), anyJson),
  },
  { requiredKeys: [] },
);

function sqlText(): fc.Arbitrary<string> {
  const fragments = fc.constantFrom(
    'SELECT', 'INSERT INTO t (row_id, a) VALUES', 'UPDATE t SET a =', 'DELETE FROM', 'DROP TABLE', 'CREATE TABLE',
    'ATTACH', "'x'", '"y"', ';', '--', '/*', '*/', '(', ')', '?', ':p', 't', 's', 'WHERE', 'random()', 'PRAGMA',
    'load_extension', 'VACUUM', 'BEGIN', 'COMMIT', 'USE main', 'CREATE DATABASE', 'DROP DATABASE main', 'SHOW TABLES', '1', ',',
  );
  return fc.oneof(fc.array(fragments, { maxLength: 8 }).map((parts) => parts.join(' ')), fc.string({ maxLength: 40 }));
}

async function expectSafe(call: () => request.Test): Promise<void> {
  const image = Buffer.from(test_node.node.engine.snapshot());
  const response = await call();
  expect(response.status).toBeLessThan(500);
  if (response.status >= 400) {
    expect(response.body).toEqual({ error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }) });
    expect(Buffer.from(test_node.node.engine.snapshot()).equals(image)).toBe(true);
  }
}

it('random JSON bodies on every POST endpoint', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...POST_PATHS), bodyFor, async (path, body) => {
      await expectSafe(() => request(test_node.app).post(path).send(body));
    }),
    { numRuns: RUNS },
  );
});

it('random raw bytes as bodies', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...POST_PATHS), fc.string({ maxLength: 200 }), async (path, raw) => {
      await expectSafe(() => request(test_node.app).post(path).set('content-type', 'application/json').send(raw));
    }),
    { numRuns: RUNS },
  );
});

it('random query strings on every GET endpoint', async () => {
  const queryValue = fc.oneof(identifierish, fc.string({ maxLength: 20 }), fc.constantFrom('strong', 'local', 'weird'));
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...GET_PATHS),
      fc.dictionary(fc.constantFrom('table', 'column', 'value', 'db', 'consistency', 'x'), queryValue, { maxKeys: 5 }),
      async (path, query) => {
        await expectSafe(() => request(test_node.app).get(path).query(query));
      },
    ),
    { numRuns: RUNS },
  );
});

it('random SQL never crashes the node, and a refused script changes nothing', async () => {
  await fc.assert(
    fc.asyncProperty(sqlText(), fc.option(fc.array(scalar, { maxLength: 2 }), { nil: undefined }), async (query, params) => {
      await expectSafe(() => request(test_node.app).post('/query').send(params === undefined ? { query } : { query, params }));
    }),
    { numRuns: RUNS },
  );
  expect((await request(test_node.app).get('/health')).status).toBe(200);
});
