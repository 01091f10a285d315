/**
 * The peer validator (src/replication/peer-validation.ts, wired by
 * peer-inspector.ts): every message type, a table of bad values per field,
 * commands and forwarded writes; every message the replica simulator sends
 * passes (the node simulator checks the same for whole nodes, in
 * sim-transport.ts); a fuzz that finds nothing thrown but PeerInputError; and
 * the cost of checking a 64-entry batch of inserts.
 */
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { checkForwardedWrites, peerInspector } from '../../src/replication/peer-inspector';
import { PeerInputError, PeerValidator, snapshotChecksum } from '../../src/replication/peer-validation';
import { INDEX_MAX, TERM_MAX } from '../../src/replication/bounds';
import { SimNetwork } from '../sim/network';
import { runFaultScenario } from '../sim/scenarios';
import { checkCommand } from '../../database/command-validation';

const BODY_LIMIT = 1_048_576;
const inspector = peerInspector({ self_id: 1, member_ids: [1, 2, 3], body_limit_bytes: BODY_LIMIT, entries_per_message_max: 512 });
const SENDER = 2;

function insert(row_id: string, data: Record<string, unknown> = { v: 1 }): Record<string, unknown> {
  return { type: 'insert', db_name: null, table_name: 'items', row_id, data };
}

function entry(index: number, term: number, command: unknown = insert(`r${index}`)): Record<string, unknown> {
  return { index, term, data: command === null ? null : { command, context: { timestamp_ms: 1_700_000_000_000, seed: 12345 } } };
}

const image = new Uint8Array(Buffer.from('an image'));
const valid: Record<string, Record<string, unknown>> = {
  append_entries: { type: 'append_entries', from: 2, to: 1, term: 5, prev_index: 10, prev_term: 4, entries: [entry(11, 4), entry(12, 5, null)], commit: 10, live_ids: [1, 3], read_context: 7 },
  append_response: { type: 'append_response', from: 2, to: 1, term: 5, success: true, index: 12, hint_index: 0, hint_term: 0, read_context: 7 },
  request_vote: { type: 'request_vote', from: 2, to: 1, term: 6, pre_vote: true, last_index: 12, last_term: 5 },
  vote_response: { type: 'vote_response', from: 2, to: 1, term: 6, pre_vote: false, granted: true },
  install_snapshot: {
    type: 'install_snapshot', from: 2, to: 1, term: 5, snapshot: { meta: { last_index: 100, last_term: 5 }, data: image },
    checksum: snapshotChecksum(image), live_ids: [1], read_context: 0,
  },
};

function check(message: unknown): void {
  inspector.messages({ messages: [message] }, SENDER);
}

function refusal(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    if (!(error instanceof PeerInputError)) throw error;
    return error.message;
  }
}

const badNumbers: [string, unknown][] = [
  ['negative', -1],
  ['fractional', 1.5],
  ['2^53-1', Number.MAX_SAFE_INTEGER],
  ['above the bound', TERM_MAX + 1],
  ['a string', '5'],
  ['null', null],
  ['missing', undefined],
  ['NaN', Number.NaN],
  ['an object', { valueOf: 1 }],
];

const numberFields: Record<string, string[]> = {
  append_entries: ['term', 'prev_index', 'prev_term', 'commit', 'read_context'],
  append_response: ['term', 'index', 'hint_index', 'hint_term', 'read_context'],
  request_vote: ['term', 'last_index', 'last_term'],
  vote_response: ['term'],
  install_snapshot: ['term', 'read_context'],
};
const booleanFields: Record<string, string[]> = {
  append_response: ['success'],
  request_vote: ['pre_vote'],
  vote_response: ['pre_vote', 'granted'],
};

function withField(message: Record<string, unknown>, field: string, value: unknown): Record<string, unknown> {
  const copy = { ...message };
  if (value === undefined) delete copy[field];
  else copy[field] = value;
  return copy;
}

describe('valid messages pass', () => {
  it.each(Object.keys(valid))('%s', (type) => {
    expect(refusal(() => check(valid[type]))).toBeNull();
  });

  it('at the bounds', () => {
    expect(refusal(() => check({ ...valid.vote_response, term: TERM_MAX }))).toBeNull();
    expect(refusal(() => check({ ...valid.append_response, index: INDEX_MAX }))).toBeNull();
    expect(refusal(() => check({ ...valid.append_entries, prev_index: 0, prev_term: 0, entries: [], commit: 0 }))).toBeNull();
  });
});

describe('bad values per field are refused', () => {
  const cases: [string, string, string, unknown][] = [];
  for (const [type, fields] of Object.entries(numberFields)) {
    for (const field of fields) for (const [what, value] of badNumbers) cases.push([type, field, what, value]);
  }
  for (const [type, fields] of Object.entries(booleanFields)) {
    for (const field of fields) for (const [what, value] of [['a number', 1], ['a string', 'true'], ['null', null], ['missing', undefined]] as const) cases.push([type, field, what, value]);
  }
  for (const type of Object.keys(valid)) {
    for (const [what, value] of [['a non-member', 9], ['this node', 1], ['a string', '2'], ['missing', undefined]] as const) cases.push([type, 'from', what, value]);
    for (const [what, value] of [['a non-member', 9], ['another member', 3], ['a string', '1'], ['missing', undefined]] as const) cases.push([type, 'to', what, value]);
  }
  it.each(cases)('%s.%s %s', (type, field, _what, value) => {
    expect(refusal(() => check(withField(valid[type] as Record<string, unknown>, field, value)))).not.toBeNull();
  });
});

describe('whole messages that are refused', () => {
  const append = valid.append_entries as Record<string, unknown>;
  const snapshot = valid.install_snapshot as Record<string, unknown> & { snapshot: { meta: object; data: Uint8Array } };
  const cases: [string, unknown][] = [
    ['not an object', 'append_entries'],
    ['null', null],
    ['an array', []],
    ['an unknown type', { ...append, type: 'bogus' }],
    ['an inherited type name', { ...append, type: 'constructor' }],
    ['an extra field', { ...append, extra: 1 }],
    ['entries not a list', { ...append, entries: {} }],
    ['a huge entries list', { ...append, entries: Array.from({ length: 513 }, (_, offset) => entry(11 + offset, 5)) }],
    ['entries not consecutive', { ...append, entries: [entry(11, 4), entry(13, 5)] }],
    ['entries not after prev_index', { ...append, entries: [entry(12, 4)] }],
    ['an entry term above the message term', { ...append, entries: [entry(11, 6)] }],
    ['an entry term below prev_term', { ...append, entries: [entry(11, 3)] }],
    ['entry terms going down', { ...append, entries: [entry(11, 5), entry(12, 4)] }],
    ['prev_term above the term', { ...append, prev_term: 6 }],
    ['an entry with an extra field', { ...append, entries: [{ ...entry(11, 4), x: 1 }] }],
    ['an entry index as a string', { ...append, entries: [{ ...entry(11, 4), index: '11' }] }],
    ['an entry without data', { ...append, entries: [{ index: 11, term: 4 }] }],
    ['an entry with a bogus command', { ...append, entries: [entry(11, 4, { type: 'bogus' })] }],
    ['an entry whose data is a bare command', { ...append, entries: [{ index: 11, term: 4, data: insert('x') }] }],
    ['an entry without context', { ...append, entries: [{ index: 11, term: 4, data: { command: insert('x') } }] }],
    ['an entry with a fractional seed', { ...append, entries: [{ index: 11, term: 4, data: { command: insert('x'), context: { timestamp_ms: 1, seed: 0.5 } } }] }],
    ['an entry of 10 MB', { ...append, entries: [entry(11, 4, insert('big', { v: 'x'.repeat(10 * 1024 * 1024) }))] }],
    ['entries past INDEX_MAX', { ...append, prev_index: INDEX_MAX, entries: [entry(INDEX_MAX + 1, 4)] }],
    ['live_ids a non-member', { ...append, live_ids: [1, 9] }],
    ['live_ids longer than the members', { ...append, live_ids: [1, 2, 3, 1] }],
    ['live_ids huge', { ...append, live_ids: new Array(100_000).fill(1) }],
    ['live_ids not a list', { ...append, live_ids: 3 }],
    ['request_vote last_term above its term', { ...valid.request_vote, last_term: 7 }],
    ['a snapshot without checksum', withField(snapshot, 'checksum', undefined)],
    ['a snapshot with a wrong checksum', { ...snapshot, checksum: snapshotChecksum(new Uint8Array([1, 2, 3])) }],
    ['a snapshot checksum not hex', { ...snapshot, checksum: 'Z'.repeat(64) }],
    ['snapshot data not bytes', { ...snapshot, snapshot: { ...snapshot.snapshot, data: 'Z2FyYmFnZQ==' } }],
    ['snapshot data empty', { ...snapshot, snapshot: { ...snapshot.snapshot, data: new Uint8Array(0) }, checksum: snapshotChecksum(new Uint8Array(0)) }],
    ['snapshot data a plain array', { ...snapshot, snapshot: { ...snapshot.snapshot, data: [1, 2] } }],
    ['snapshot meta last_term above the term', { ...snapshot, snapshot: { ...snapshot.snapshot, meta: { last_index: 100, last_term: 6 } } }],
    ['snapshot meta negative', { ...snapshot, snapshot: { ...snapshot.snapshot, meta: { last_index: -1, last_term: 5 } } }],
    ['snapshot meta 2^53-1', { ...snapshot, snapshot: { ...snapshot.snapshot, meta: { last_index: Number.MAX_SAFE_INTEGER, last_term: 5 } } }],
    ['snapshot meta with an extra field', { ...snapshot, snapshot: { ...snapshot.snapshot, meta: { last_index: 1, last_term: 5, x: 1 } } }],
    ['snapshot with an extra field', { ...snapshot, snapshot: { ...snapshot.snapshot, x: 1 } }],
  ];
  it.each(cases)('%s', (_what, message) => {
    expect(refusal(() => check(message))).not.toBeNull();
  });

  it('frames that are not {messages: [...]}', () => {
    for (const frame of [null, [], {}, { messages: {} }, { messages: [], x: 1 }, { messages: new Array(5000).fill(valid.vote_response) }]) {
      expect(refusal(() => inspector.messages(frame, SENDER))).not.toBeNull();
    }
  });
});

describe('commands', () => {
  const good: unknown[] = [
    { type: 'init_database', db_name: 'shop' },
    { type: 'create_table', db_name: null, table_name: 'items', columns: ['a', 'b'] },
    { type: 'drop_table', db_name: 'shop', table_name: 'items' },
    insert('1', { a: 's', b: 2, c: true, d: null }),
    { type: 'update', db_name: null, table_name: 'items', row_id: '1', new_data: { a: 1 } },
    { type: 'delete_row', db_name: null, table_name: 'items', row_id: '1' },
    { type: 'sql', db_name: null, script: 'SELECT 1' },
    { type: 'sql', db_name: null, script: 'SELECT ?', params: [1] },
    { type: 'sql', db_name: null, script: 'SELECT :a', params: { a: 'x' } },
    { type: 'sql', db_name: null, script: 'SELECT 1', params: undefined },
  ];
  it.each(good.map((command) => [JSON.stringify(command), command]))('%s passes', (_text, command) => {
    expect(() => checkCommand(command)).not.toThrow();
  });

  const bad: [string, unknown][] = [
    ['bogus type', { type: 'bogus' }],
    ['no type', { db_name: null }],
    ['an extra field', { ...insert('1'), extra: 1 }],
    ['a missing field', { type: 'insert', db_name: null, table_name: 'items', row_id: '1' }],
    ['a table name that is no identifier', { ...insert('1'), table_name: 'a b' }],
    ['a db name that is no identifier', { ...insert('1'), db_name: '1x' }],
    ['a db name undefined on init', { type: 'init_database' }],
    ['a numeric row id', { ...insert('1'), row_id: 1 }],
    ['an empty row id', insert('')],
    ['a long row id', insert('x'.repeat(513))],
    ['data not an object', { ...insert('1'), data: [1] }],
    ['a field name that is no identifier', insert('1', { 'a-b': 1 })],
    ['a value that is no scalar', insert('1', { a: { b: 1 } })],
    ['too many fields', insert('1', Object.fromEntries(Array.from({ length: 1001 }, (_, index) => [`c${index}`, 1])))],
    ['update with no fields', { type: 'update', db_name: null, table_name: 'items', row_id: '1', new_data: {} }],
    ['no columns', { type: 'create_table', db_name: null, table_name: 'items', columns: [] }],
    ['a bad column', { type: 'create_table', db_name: null, table_name: 'items', columns: ['ok', 'no way'] }],
    ['an empty script', { type: 'sql', db_name: null, script: '' }],
    ['a script that is no string', { type: 'sql', db_name: null, script: 1 }],
    ['params that are no scalars', { type: 'sql', db_name: null, script: 'SELECT ?', params: [[1]] }],
    ['params as a string', { type: 'sql', db_name: null, script: 'SELECT ?', params: 'x' }],
    ['null', null],
    ['an array', [insert('1')]],
  ];
  it.each(bad)('%s is refused', (_what, command) => {
    expect(() => checkCommand(command)).toThrow();
  });
});

describe('forwarded writes', () => {
  it('a batch of valid writes passes', () => {
    expect(() => checkForwardedWrites([{ command: insert('1'), user: null }, { command: insert('2'), user: 'alice' }], BODY_LIMIT)).not.toThrow();
  });
  const bad: [string, unknown][] = [
    ['not a list', { command: insert('1'), user: null }],
    ['a bogus command', [{ command: { type: 'bogus' }, user: null }]],
    ['a 10 MB row', [{ command: insert('big', { v: 'x'.repeat(10 * 1024 * 1024) }), user: null }]],
    ['a row just over the body limit', [{ command: insert('big', { v: 'x'.repeat(BODY_LIMIT) }), user: null }]],
    ['no user', [{ command: insert('1') }]],
    ['a user that is a number', [{ command: insert('1'), user: 7 }]],
    ['a long user', [{ command: insert('1'), user: 'u'.repeat(257) }]],
    ['an extra field', [{ command: insert('1'), user: null, admin: true }]],
    ['too many writes', new Array(257).fill({ command: insert('1'), user: null })],
    ['a write that is null', [null]],
  ];
  it.each(bad)('%s is refused', (_what, writes) => {
    expect(refusal(() => checkForwardedWrites(writes, BODY_LIMIT))).not.toBeNull();
  });
  it('the body limit is the configured one', () => {
    const writes = [{ command: insert('big', { v: 'x'.repeat(4000) }), user: null }];
    expect(refusal(() => checkForwardedWrites(writes, BODY_LIMIT))).toBeNull();
    expect(refusal(() => checkForwardedWrites(writes, 2048))).not.toBeNull();
  });
});

describe('the measure of a command is never more than the body the public API took for it', () => {
  const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
  const value = fc.oneof(fc.string({ maxLength: 30, unit: 'binary' }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
  it('for inserts and SQL', () => {
    fc.assert(
      fc.property(name, fc.oneof(fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }), fc.integer()), fc.dictionary(name, value, { maxKeys: 20 }), fc.string({ minLength: 1, maxLength: 60, unit: 'binary' }), fc.array(value, { maxLength: 5 }), (table, row_id, data, script, params) => {
        const body = { table_name: table, row_id, data };
        const command = { type: 'insert', db_name: 'some_database', table_name: table, row_id: String(row_id), data };
        expect(checkCommand(command)).toBeLessThanOrEqual(Buffer.byteLength(JSON.stringify(body)));
        const sql = { type: 'sql', db_name: null, script, params };
        expect(checkCommand(sql)).toBeLessThanOrEqual(Buffer.byteLength(JSON.stringify({ query: script, params })));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the replica simulator: every message it sends passes', () => {
  it('over fault scenarios', () => {
    let checked = 0;
    const validators = new Map<number, PeerValidator>();
    const validatorFor = (id: number) => {
      let validator = validators.get(id);
      if (validator === undefined) {
        // The scenarios' clusters have at most 5 nodes, ids 1 to 5; their entries carry strings.
        validator = new PeerValidator({
          self_id: id,
          member_ids: [1, 2, 3, 4, 5],
          entries_per_message_max: 512,
          checkData: (data) => {
            if (data !== null && typeof data !== 'string') throw new Error('not a string');
          },
        });
        validators.set(id, validator);
      }
      return validator;
    };
    const original = SimNetwork.prototype.send;
    const spy = jest.spyOn(SimNetwork.prototype, 'send').mockImplementation(function (this: SimNetwork<{ from: number; to: number }>, message: { from: number; to: number }, now_tick: number) {
      const sent = message as Record<string, unknown> & { type: string; from: number; to: number; snapshot?: { data: Uint8Array } };
      // As the node does when it attaches the image: the replica leaves the checksum out.
      const wire = sent.type === 'install_snapshot' ? { ...sent, checksum: snapshotChecksum(sent.snapshot!.data) } : sent;
      validatorFor(sent.to).message(wire, sent.from);
      checked += 1;
      return original.call(this, message, now_tick);
    });
    try {
      for (let seed = 1; seed <= 40; seed += 1) runFaultScenario(seed);
    } finally {
      spy.mockRestore();
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});

describe('fuzz: nothing but PeerInputError is thrown', () => {
  const json = fc.jsonValue({ maxDepth: 4 });
  it('arbitrary JSON as a frame or a message', () => {
    fc.assert(
      fc.property(json, (value) => {
        refusal(() => inspector.messages(value, SENDER));
        refusal(() => inspector.messages({ messages: [value] }, SENDER));
        refusal(() => inspector.forwardedWrites(value));
      }),
      { numRuns: 2000 },
    );
  });
  it('valid messages with one field replaced by anything', () => {
    const types = Object.keys(valid);
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.string({ maxLength: 12 }), fc.oneof(json, fc.constantFrom(-1, 0.5, 2 ** 53, TERM_MAX, 'x', null, [], {})), (type, key, value) => {
        const base = valid[type] as Record<string, unknown>;
        const field = Object.keys(base)[key.length % Object.keys(base).length] as string;
        refusal(() => check({ ...base, [field]: value }));
        refusal(() => check({ ...base, [key]: value }));
        refusal(() => check({ ...base, entries: [entry(11, 4, value)] }));
        refusal(() => inspector.forwardedWrites([{ command: value, user: null }]));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('cost', () => {
  it('validating a 64-entry append of inserts (µs per batch; a figure, not an assertion)', () => {
    const entries = Array.from({ length: 64 }, (_, offset) => entry(11 + offset, 5, insert(`row-${offset}`, { name: `name ${offset}`, qty: offset, price: 9.99, note: 'some text of moderate length' })));
    const frame = JSON.parse(JSON.stringify({ messages: [{ ...valid.append_entries, entries }] }));
    for (let run = 0; run < 2000; run += 1) inspector.messages(frame, SENDER);
    const runs = 20_000;
    const started = performance.now();
    for (let run = 0; run < runs; run += 1) inspector.messages(frame, SENDER);
    const per_batch_us = ((performance.now() - started) * 1000) / runs;
    const parse_started = performance.now();
    const text = JSON.stringify(frame);
    for (let run = 0; run < 2000; run += 1) JSON.parse(text);
    const parse_us = ((performance.now() - parse_started) * 1000) / 2000;
    console.log(`peer validation: ${per_batch_us.toFixed(1)} µs per 64-entry append of inserts (${(per_batch_us / 64).toFixed(2)} µs per entry); JSON.parse of the same frame (${text.length} bytes): ${parse_us.toFixed(1)} µs`);
    expect(per_batch_us).toBeGreaterThan(0);
  });
});
