import { parseStatements, splitStatements } from '../../database/sql';
import { tokenize } from '../../database/sql-tokenizer';

describe('splitStatements', () => {
  const cases: Array<[string, string, string[]]> = [
    ['one statement without a semicolon', 'SELECT 1', ['SELECT 1']],
    ['two statements', 'SELECT 1; SELECT 2;', ['SELECT 1', 'SELECT 2']],
    ['empty statements are dropped', ';; SELECT 1 ;;\n; ', ['SELECT 1']],
    ['an empty script', '', []],
    ['only comments', '-- nothing\n/* at all */', []],
    ['a semicolon in a string', "INSERT INTO t VALUES ('a;b'); SELECT 2", ["INSERT INTO t VALUES ('a;b')", 'SELECT 2']],
    ['an escaped quote in a string', "SELECT 'it''s; fine'; SELECT 2", ["SELECT 'it''s; fine'", 'SELECT 2']],
    ['a semicolon in a double-quoted identifier', 'SELECT "a;b" FROM t; SELECT 2', ['SELECT "a;b" FROM t', 'SELECT 2']],
    ['a semicolon in a backtick identifier', 'SELECT `a;b` FROM t; SELECT 2', ['SELECT `a;b` FROM t', 'SELECT 2']],
    ['a semicolon in a bracket identifier', 'SELECT [a;b] FROM t; SELECT 2', ['SELECT [a;b] FROM t', 'SELECT 2']],
    ['a semicolon in a line comment', 'SELECT 1 -- not; the end\n; SELECT 2', ['SELECT 1', 'SELECT 2']],
    ['a semicolon in a block comment', 'SELECT 1 /* not; the end */ + 1; SELECT 2', ['SELECT 1 /* not; the end */ + 1', 'SELECT 2']],
    ['leading comments are not part of the statement', '-- hello\nSELECT 1', ['SELECT 1']],
    ['a blob literal', "SELECT x'3b3b'; SELECT 2", ["SELECT x'3b3b'", 'SELECT 2']],
    ['an unterminated string runs to the end', "SELECT 'abc; SELECT 2", ["SELECT 'abc; SELECT 2"]],
    ['an unterminated comment runs to the end', 'SELECT 1 /* abc; SELECT 2', ['SELECT 1']],
  ];
  test.each(cases)('%s', (_name, script, expected) => {
    expect(splitStatements(script)).toEqual(expected);
  });

  test('a trigger body keeps its semicolons', () => {
    const trigger =
      'CREATE TRIGGER log_insert AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.id); UPDATE counts SET n = n + 1; END';
    expect(splitStatements(`${trigger}; SELECT 1`)).toEqual([trigger, 'SELECT 1']);
  });

  test('a TEMP trigger and CASE ... END inside the body', () => {
    const trigger =
      'CREATE TEMP TRIGGER tr BEFORE UPDATE ON t WHEN CASE WHEN new.a > 0 THEN 1 END BEGIN ' +
      "UPDATE t SET b = CASE WHEN new.a > 1 THEN 'big' ELSE CASE new.a WHEN 1 THEN 'one' END END; " +
      "SELECT RAISE(IGNORE) WHERE new.a = 'end;'; END";
    expect(splitStatements(`${trigger};INSERT INTO t VALUES (1)`)).toEqual([trigger, 'INSERT INTO t VALUES (1)']);
  });

  test('BEGIN outside a trigger is an ordinary statement boundary', () => {
    expect(splitStatements('BEGIN; SELECT 1; END;')).toEqual(['BEGIN', 'SELECT 1', 'END']);
  });

  test('statements keep their tokens', () => {
    const [statement] = parseStatements("SELECT 'a' AS \"b\"");
    expect(statement.tokens.map((token) => token.kind)).toEqual(['word', 'string', 'word', 'quoted_identifier']);
  });

  test('seed 004 splits into its eight statements', () => {
    const script = `CREATE DATABASE SnapDB;
USE SnapDB;
CREATE TABLE Users (id INTEGER, name TEXT);
INSERT INTO Users VALUES (1, 'Alice');
SELECT * FROM Users;
UPDATE Users SET name = 'Bob' WHERE id = 1;
DELETE FROM Users WHERE id = 1;
DROP DATABASE SnapDB;`;
    expect(splitStatements(script)).toHaveLength(8);
  });
});

describe('tokenize', () => {
  test('unquotes strings and identifiers', () => {
    const values = tokenize(`'it''s' "a""b" \`c\`\`d\` [e f]`).map((token) => token.value);
    expect(values).toEqual(["it's", 'a"b', 'c`d', 'e f']);
  });

  test('numbers, parameters and operators', () => {
    const tokens = tokenize('1.5e-3 0x1F .5 ? ?2 :name @x $y a->>b <= ==');
    expect(tokens.map((token) => [token.kind, token.text])).toEqual([
      ['number', '1.5e-3'],
      ['number', '0x1F'],
      ['number', '.5'],
      ['parameter', '?'],
      ['parameter', '?2'],
      ['parameter', ':name'],
      ['parameter', '@x'],
      ['parameter', '$y'],
      ['word', 'a'],
      ['punctuation', '->>'],
      ['word', 'b'],
      ['punctuation', '<='],
      ['punctuation', '=='],
    ]);
  });

  test('offsets point into the script', () => {
    const script = '  SELECT  /* c */ "x" ';
    for (const token of tokenize(script)) expect(script.slice(token.start, token.end)).toBe(token.text);
  });

  test('non-ASCII identifiers are words', () => {
    expect(tokenize('SELECT données FROM таблица').map((token) => token.kind)).toEqual(['word', 'word', 'word', 'word']);
  });
});
