/**
 * The statements ddb adds to SQLite's dialect, because a ddb node holds several
 * databases and SQLite knows only one per connection: CREATE DATABASE,
 * DROP DATABASE, USE, SHOW DATABASES and SHOW TABLES. Recognised by their
 * leading keywords; everything else goes to SQLite unchanged.
 */
import { DdbError } from '../utils/errors';
import { isIdentifier, keywordOf, type Token } from './sql-tokenizer';

export type DatabaseStatement =
  | { type: 'create_database'; name: string; if_not_exists: boolean }
  | { type: 'drop_database'; name: string; if_exists: boolean }
  | { type: 'use'; name: string }
  | { type: 'show_databases' }
  | { type: 'show_tables' };

/** The statement, or null when it is not one of ddb's own (SQLite runs it). */
export function parseDatabaseStatement(tokens: readonly Token[]): DatabaseStatement | null {
  const verb = keywordOf(tokens[0]);
  const object = keywordOf(tokens[1]);
  if (verb === 'CREATE' && object === 'DATABASE') return parseCreate(new Cursor(tokens, 2));
  if (verb === 'DROP' && object === 'DATABASE') return parseDrop(new Cursor(tokens, 2));
  if (verb === 'USE') return parseUse(new Cursor(tokens, 1));
  if (verb === 'SHOW') return parseShow(new Cursor(tokens, 1));
  return null;
}

function parseCreate(cursor: Cursor): DatabaseStatement {
  const if_not_exists = cursor.acceptKeywords('IF', 'NOT', 'EXISTS');
  const name = cursor.expectName('CREATE DATABASE');
  cursor.expectEnd();
  return { type: 'create_database', name, if_not_exists };
}

function parseDrop(cursor: Cursor): DatabaseStatement {
  const if_exists = cursor.acceptKeywords('IF', 'EXISTS');
  const name = cursor.expectName('DROP DATABASE');
  cursor.expectEnd();
  return { type: 'drop_database', name, if_exists };
}

function parseUse(cursor: Cursor): DatabaseStatement {
  const name = cursor.expectName('USE');
  cursor.expectEnd();
  return { type: 'use', name };
}

function parseShow(cursor: Cursor): DatabaseStatement {
  if (cursor.acceptKeywords('DATABASES')) {
    cursor.expectEnd();
    return { type: 'show_databases' };
  }
  if (cursor.acceptKeywords('TABLES')) {
    cursor.expectEnd();
    return { type: 'show_tables' };
  }
  throw new DdbError('SQL_ERROR', 'SHOW supports only SHOW DATABASES and SHOW TABLES');
}

class Cursor {
  constructor(
    private readonly tokens: readonly Token[],
    private index: number,
  ) {}

  /** Consumes the keywords when all of them come next, in order. */
  acceptKeywords(...keywords: string[]): boolean {
    const matches = keywords.every((keyword, offset) => keywordOf(this.tokens[this.index + offset]) === keyword);
    if (matches) this.index += keywords.length;
    return matches;
  }

  expectName(statement: string): string {
    const token = this.tokens[this.index];
    if (!isIdentifier(token)) {
      throw new DdbError('SQL_ERROR', `${statement} needs a database name${near(token)}`);
    }
    this.index++;
    return token.value;
  }

  expectEnd(): void {
    const token = this.tokens[this.index];
    if (token !== undefined) throw new DdbError('SQL_ERROR', `syntax error${near(token)}`);
  }
}

function near(token: Token | undefined): string {
  return token === undefined ? '' : ` near "${token.text}"`;
}
