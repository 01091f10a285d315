/** SQL over HTTP: seeds 000, 001 and 004 verbatim, scripts, the sandbox and SQL errors. */
import request from 'supertest';
import { startSingleNode, type TestNode } from '../support/single-node';

let test_node: TestNode;
beforeEach(async () => {
  test_node = await startSingleNode();
});
afterEach(() => test_node.stop());

const sql = (query: string, extra: Record<string, unknown> = {}) => request(test_node.app).post('/query').send({ query, ...extra });

describe('seed 000: {"command":"exec", "query", "is_master"} posted to /', () => {
  it('creates the users table with DEFAULT CURRENT_TIMESTAMP and uses it', async () => {
    const create = await request(test_node.app)
      .post('/')
      .send({
        command: 'exec',
        query:
          'CREATE TABLE IF NOT EXISTS users (\n    id INTEGER PRIMARY KEY,\n    username TEXT UNIQUE,\n    email TEXT,\n    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP\n  )',
        is_master: false,
      });
    expect(create.status).toBe(200);
    const insert = await request(test_node.app)
      .post('/')
      .send({ command: 'exec', query: "INSERT INTO users (username, email) VALUES ('pavly', 'p@x.org')", is_master: false });
    expect(insert.status).toBe(200);
    expect(insert.body).toEqual({ changes: 1, last_insert_rowid: 1 });
    const read = await request(test_node.app).post('/').send({ command: 'query', query: 'SELECT id, username, created_at FROM users' });
    expect(read.status).toBe(200);
    expect(read.body.columns).toEqual(['id', 'username', 'created_at']);
    expect(read.body.rows[0][1]).toBe('pavly');
    expect(read.body.rows[0][2]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // A table made by SQL is usable from the row endpoints: row_id is its primary key.
    const rows = await request(test_node.app).get('/select?table=users');
    expect(rows.body.rows[0]).toMatchObject({ row_id: '1', username: 'pavly' });
  });
});

describe('seed 001: student, course and the student_course bridge table', () => {
  it('answers a many-to-many join', async () => {
    const script = `
      CREATE TABLE student (id INTEGER PRIMARY KEY, name TEXT);
      CREATE TABLE course (id INTEGER PRIMARY KEY, name TEXT);
      CREATE TABLE student_course (student_id INTEGER REFERENCES student(id), course_id INTEGER REFERENCES course(id),
        PRIMARY KEY (student_id, course_id));
      INSERT INTO student VALUES (1, 'Ahmed'), (2, 'Moamen');
      INSERT INTO course VALUES (10, 'Distributed Databases'), (20, 'Networks');
      INSERT INTO student_course VALUES (1, 10), (1, 20), (2, 10);`;
    const created = await sql(script);
    expect(created.status).toBe(200);
    expect(created.body.results).toHaveLength(6);
    const join = await sql(
      `SELECT s.name AS student, c.name AS course FROM student_course sc
         JOIN student s ON s.id = sc.student_id JOIN course c ON c.id = sc.course_id ORDER BY s.name, c.name`,
    );
    expect(join.status).toBe(200);
    expect(join.body).toEqual({
      columns: ['student', 'course'],
      rows: [
        ['Ahmed', 'Distributed Databases'],
        ['Ahmed', 'Networks'],
        ['Moamen', 'Distributed Databases'],
      ],
    });
  });
});

describe('seed 004: a script with CREATE DATABASE, USE and DROP DATABASE', () => {
  const statements = [
    'CREATE DATABASE SnapDB;',
    'USE SnapDB;',
    'CREATE TABLE Users (id INTEGER, name TEXT);',
    "INSERT INTO Users VALUES (1, 'Alice');",
    'SELECT * FROM Users;',
    "UPDATE Users SET name = 'Bob' WHERE id = 1;",
    'DELETE FROM Users WHERE id = 1;',
    'DROP DATABASE SnapDB;',
  ];

  it('runs as one script', async () => {
    const response = await sql(statements.join('\n'));
    expect(response.status).toBe(200);
    expect(response.body.results).toHaveLength(statements.length);
    expect(response.body.results[4]).toEqual({ columns: ['id', 'name'], rows: [[1, 'Alice']] });
    expect((await sql('SHOW DATABASES')).body.rows).toEqual([['main']]);
  });

  it('runs one statement per request: each request names its database, a USE lasts for its own request', async () => {
    expect((await sql(statements[0])).status).toBe(200);
    expect((await sql(statements[1])).status).toBe(200);
    for (const statement of statements.slice(2, 4)) expect((await sql(statement, { db_name: 'SnapDB' })).status).toBe(200);
    expect((await sql('SELECT name FROM Users', { db_name: 'SnapDB' })).body.rows).toEqual([['Alice']]);
    expect((await sql('SHOW TABLES')).body.rows).toEqual([]);
    for (const statement of statements.slice(5)) expect((await sql(statement, { db_name: 'SnapDB' })).status).toBe(200);
    expect((await sql('SHOW DATABASES')).body.rows).toEqual([['main']]);
  });
});

describe('USE is local to its own request', () => {
  beforeEach(async () => {
    await sql('CREATE DATABASE other; USE other; CREATE TABLE o (a)');
    await sql('CREATE TABLE m (a)');
  });

  it("one client's USE does not change the database of the next request", async () => {
    expect((await sql('USE other')).status).toBe(200);
    expect((await sql('SHOW TABLES')).body).toEqual({ columns: ['name'], rows: [['m']] });
    expect((await sql("INSERT INTO m VALUES ('to main')")).status).toBe(200);
    expect((await sql('SELECT a FROM main.m')).body.rows).toEqual([['to main']]);
    expect((await request(test_node.app).get('/select?table=m')).status).toBe(200);
  });

  it('a read with a USE is served locally, without a log entry', async () => {
    await sql("INSERT INTO o VALUES ('x')", { db_name: 'other' });
    const before = test_node.node.status().commit_index;
    const read = await sql('USE other; SELECT a FROM o');
    expect(read.status).toBe(200);
    expect(read.body.results[1]).toEqual({ columns: ['a'], rows: [['x']] });
    expect(test_node.node.status().commit_index).toBe(before);
  });

  it('/init_database still makes its database the default of every request', async () => {
    expect((await request(test_node.app).post('/init_database').send({ db_name: 'other' })).status).toBe(200);
    expect((await sql('SHOW TABLES')).body.rows).toEqual([['o']]);
    expect((await request(test_node.app).get('/select?table=o')).status).toBe(200);
  });
});

describe('scripts and errors', () => {
  it('runs a script atomically: a failing statement undoes the ones before it', async () => {
    await sql('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const failed = await sql("INSERT INTO t VALUES (1, 'a'); CREATE DATABASE d2; INSERT INTO nope VALUES (2)");
    expect(failed.status).toBe(400);
    expect(failed.body.error.code).toBe('SQL_ERROR');
    expect(failed.body.error.message).toMatch(/no such table: nope/);
    expect((await sql('SELECT count(*) AS n FROM t')).body.rows).toEqual([[0]]);
    expect((await sql('SHOW DATABASES')).body.rows).toEqual([['main']]);
  });

  it('the error of a script names the failing statement (statement_index, from 0), for writes and reads', async () => {
    await sql('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    const write = await sql('INSERT INTO t VALUES (1); INSERT INTO t VALUES (1)');
    expect(write.status).toBe(400);
    expect(write.body).toEqual({
      error: {
        code: 'SQL_ERROR',
        message: 'statement 1: UNIQUE constraint failed: t.id',
        sqlite_code: 'SQLITE_CONSTRAINT_PRIMARYKEY',
        statement_index: 1,
      },
    });
    const read = await sql('SELECT 1; SELECT 2; SELECT * FROM nope');
    expect(read.status).toBe(400);
    expect(read.body.error).toMatchObject({ code: 'SQL_ERROR', message: 'statement 2: no such table: nope', statement_index: 2 });
    const forbidden = await sql('SELECT 1; DETACH DATABASE x');
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toMatchObject({ code: 'FORBIDDEN_STATEMENT', statement_index: 1 });
    const single = await sql('SELECT * FROM nope');
    expect(single.body.error).toEqual({ code: 'SQL_ERROR', message: 'no such table: nope', sqlite_code: 'SQLITE_ERROR' });
  });

  it('reports last_insert_rowid 0 for a statement that inserted no row (CREATE TABLE, UPDATE, DELETE)', async () => {
    expect((await sql('CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT)')).body).toEqual({ changes: 0, last_insert_rowid: 0 });
    expect((await sql("INSERT INTO users (username) VALUES ('pavly')")).body).toEqual({ changes: 1, last_insert_rowid: 1 });
    expect((await sql('CREATE TABLE other (a)')).body).toEqual({ changes: 0, last_insert_rowid: 0 });
    expect((await sql("UPDATE users SET username = 'p'")).body).toEqual({ changes: 1, last_insert_rowid: 0 });
    const deleted = await request(test_node.app).post('/').send({ command: 'exec', query: 'DELETE FROM users', is_master: false });
    expect(deleted.body).toEqual({ changes: 1, last_insert_rowid: 0 });
  });

  it('binds positional and named parameters', async () => {
    await sql('CREATE TABLE p (id INTEGER PRIMARY KEY, v TEXT)');
    expect((await sql('INSERT INTO p VALUES (?, ?)', { params: [1, 'one'] })).status).toBe(200);
    expect((await sql('INSERT INTO p VALUES (:id, :v)', { params: { id: 2, v: 'two' } })).status).toBe(200);
    expect((await sql('SELECT v FROM p WHERE id = ?', { params: [2] })).body.rows).toEqual([['two']]);
  });

  it.each([
    ["ATTACH DATABASE '/tmp/x.db' AS x", 'FORBIDDEN_STATEMENT', 403],
    ['DETACH DATABASE x', 'FORBIDDEN_STATEMENT', 403],
    ["VACUUM INTO '/tmp/copy.db'", 'FORBIDDEN_STATEMENT', 403],
    ["SELECT load_extension('/tmp/evil.so')", 'FORBIDDEN_STATEMENT', 403],
    ['PRAGMA writable_schema = 1', 'FORBIDDEN_STATEMENT', 403],
    ['PRAGMA journal_mode', 'FORBIDDEN_STATEMENT', 403],
    ['SELEC 1', 'SQL_ERROR', 400],
    ['SELECT * FROM nowhere', 'SQL_ERROR', 400],
    ['CREATE DATABASE main', 'DATABASE_EXISTS', 409],
    ['DROP DATABASE nodb', 'DATABASE_NOT_FOUND', 404],
  ])('%s → %s', async (query, code, status) => {
    const response = await sql(query);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
  });

  it('allows read-only pragmas', async () => {
    await sql('CREATE TABLE t (a, b)');
    const info = await sql('PRAGMA table_info(t)');
    expect(info.status).toBe(200);
    expect(info.body.rows.map((row: unknown[]) => row[1])).toEqual(['a', 'b']);
  });

  it('a table made by /create_table is usable from SQL', async () => {
    await request(test_node.app).post('/create_table').send({ table_name: 'students', columns: ['name', 'grade'] });
    await request(test_node.app).post('/insert').send({ table_name: 'students', row_id: 's1', data: { name: 'Ahmed', grade: 'A' } });
    const read = await sql("SELECT row_id, name FROM students WHERE grade = 'A'");
    expect(read.body.rows).toEqual([['s1', 'Ahmed']]);
  });
});
