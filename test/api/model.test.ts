/**
 * Model-based test: random sequences of row operations run against a real
 * single node and against a plain in-memory model; every answer (status and
 * body) and the final table must agree.
 */
import fc from 'fast-check';
import request from 'supertest';
import { startSingleNode } from '../support/single-node';

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
jest.setTimeout(120_000);

type Row = Record<string, string | number | null>;
type Model = Map<string, Row>;

const rowIds = fc.constantFrom('a', 'b', 'c', 'd');
const values = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom('x', 'y', ''), fc.constant(null));
const partialRow = fc.record({ c1: values, c2: values }, { requiredKeys: [] });

const operation = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), row_id: rowIds, data: partialRow }),
  fc.record({ kind: fc.constant('update' as const), row_id: rowIds, data: partialRow }),
  fc.record({ kind: fc.constant('delete' as const), row_id: rowIds }),
  fc.record({ kind: fc.constant('select' as const) }),
  fc.record({ kind: fc.constant('search' as const), value: fc.constantFrom('x', 'y', '1', '-1', '') }),
);
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

function expected(model: Model, op: Operation): { status: number; code?: string } {
  const rows = [...model.values()].sort((p, q) => String(p.row_id).localeCompare(String(q.row_id)));
  switch (op.kind) {
    case 'insert':
      if (model.has(op.row_id)) return { status: 409, code: 'ROW_EXISTS' };
      model.set(op.row_id, { row_id: op.row_id, c1: null, c2: null, ...op.data });
      return { status: 201 };
    case 'update':
      // Validation comes before the row is looked up.
      if (Object.keys(op.data).length === 0) return { status: 400, code: 'INVALID_REQUEST' };
      if (!model.has(op.row_id)) return { status: 404, code: 'ROW_NOT_FOUND' };
      model.set(op.row_id, { ...(model.get(op.row_id) as Row), ...op.data });
      return { status: 200 };
    case 'delete':
      if (!model.has(op.row_id)) return { status: 404, code: 'ROW_NOT_FOUND' };
      model.delete(op.row_id);
      return { status: 200 };
    case 'select':
      return { status: 200, ...{ rows } };
    case 'search':
      return { status: 200 };
  }
}

it('agrees with an in-memory model on every answer', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 25 }), async (ops) => {
      const test_node = await startSingleNode();
      try {
        const app = test_node.app;
        await request(app).post('/create_table').send({ table_name: 'm', columns: ['c1', 'c2'] });
        const model: Model = new Map();
        for (const op of ops) {
          const want = expected(model, op);
          let response;
          if (op.kind === 'insert') response = await request(app).post('/insert').send({ table_name: 'm', row_id: op.row_id, data: op.data });
          else if (op.kind === 'update') response = await request(app).post('/update').send({ table_name: 'm', row_id: op.row_id, new_data: op.data });
          else if (op.kind === 'delete') response = await request(app).post('/delete_record').send({ table_name: 'm', row_id: op.row_id });
          else if (op.kind === 'select') response = await request(app).get('/select?table=m');
          else response = await request(app).get('/search').query({ table: 'm', column: 'c1', value: op.value });
          expect({ op, status: response.status }).toEqual({ op, status: want.status });
          if (want.code !== undefined) expect(response.body.error.code).toBe(want.code);
          const modelRows = [...model.values()].sort((p, q) => String(p.row_id).localeCompare(String(q.row_id)));
          if (op.kind === 'select') expect(response.body).toEqual({ rows: modelRows, count: modelRows.length });
          if (op.kind === 'search') {
            const matching = modelRows.filter((row) => row.c1 !== null && String(row.c1) === op.value);
            expect(response.body).toEqual({ rows: matching, count: matching.length });
          }
          if (op.kind === 'update' && want.status === 200) expect(response.body).toEqual(model.get(op.row_id));
        }
      } finally {
        test_node.stop();
      }
    }),
    { numRuns: RUNS },
  );
});
