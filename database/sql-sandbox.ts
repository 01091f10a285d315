/**
 * The SQL sandbox: statements that reach outside the engine (files, other
 * databases, extensions) or that change connection settings every node must
 * share are refused with FORBIDDEN_STATEMENT. The check works on tokens, so a
 * forbidden word inside a string literal or a comment does not trip it, and
 * it runs both when a script is classified and again when it is applied or
 * read, so no path can skip it.
 */
import { DdbError } from '../utils/errors';
import { keywordOf, isIdentifier, isPunctuation, type Token } from './sql-tokenizer';

/** Read-only pragmas a script may run. Everything else could change settings every node must share. */
export const PRAGMAS_ALLOWED: ReadonlySet<string> = new Set([
  'table_info',
  'table_xinfo',
  'index_list',
  'index_info',
  'index_xinfo',
  'foreign_key_list',
  'foreign_key_check',
  'integrity_check',
  'quick_check',
  'user_version',
  'schema_version',
  'page_count',
  'compile_options',
]);

/** Allowed pragmas whose argument names a table or an index (reading), not a new value (setting). */
const PRAGMAS_TAKING_A_NAME: ReadonlySet<string> = new Set([
  'table_info',
  'table_xinfo',
  'index_list',
  'index_info',
  'index_xinfo',
  'foreign_key_list',
  'foreign_key_check',
  'integrity_check',
  'quick_check',
]);

/** The engine owns transactions: each script runs in one, committed or rolled back as a whole. */
const TRANSACTION_KEYWORDS: ReadonlySet<string> = new Set(['BEGIN', 'COMMIT', 'END', 'ROLLBACK', 'SAVEPOINT', 'RELEASE']);

const OUTSIDE_KEYWORDS: ReadonlySet<string> = new Set(['ATTACH', 'DETACH', 'VACUUM']);

const PRAGMA_FUNCTION = /^pragma_([a-z_]+)$/i;

/**
 * The statement an `EXPLAIN` or `EXPLAIN QUERY PLAN` prefix describes (the
 * tokens themselves when there is none). SQLite applies some pragmas while it
 * prepares a statement, EXPLAIN or not, so the sandbox and the classification
 * judge the inner statement exactly as if it were run.
 */
export function explainedStatement(tokens: readonly Token[]): readonly Token[] {
  let start = 0;
  while (keywordOf(tokens[start]) === 'EXPLAIN') {
    start++;
    if (keywordOf(tokens[start]) === 'QUERY' && keywordOf(tokens[start + 1]) === 'PLAN') start += 2;
  }
  return start === 0 ? tokens : tokens.slice(start);
}

/** Throws FORBIDDEN_STATEMENT when one statement (its tokens) leaves the sandbox. */
export function checkSandbox(allTokens: readonly Token[]): void {
  const tokens = explainedStatement(allTokens);
  const verb = keywordOf(tokens[0]);
  if (OUTSIDE_KEYWORDS.has(verb)) {
    throw forbidden(`${verb} is not allowed: it reaches outside the engine`);
  }
  if (TRANSACTION_KEYWORDS.has(verb)) {
    throw forbidden(`${verb} is not allowed: every script runs atomically in a transaction the engine manages`);
  }
  if (verb === 'PRAGMA') checkPragmaStatement(tokens);
  checkTokens(allTokens);
}

function checkPragmaStatement(tokens: readonly Token[]): void {
  // PRAGMA [schema.]name [= value | (argument)]; SQLite takes a quoted identifier or a
  // string ('query_only') as the name too, so the name is compared unquoted.
  const nameIndex = isPunctuation(tokens[2], '.') ? 3 : 1;
  const nameToken = tokens[nameIndex];
  const named = nameToken !== undefined && (nameToken.kind === 'string' || isIdentifier(nameToken));
  const name = named ? nameToken.value.toLowerCase() : '';
  if (!PRAGMAS_ALLOWED.has(name)) {
    throw forbidden(`PRAGMA ${name || '(missing name)'} is not allowed; allowed read-only pragmas: ${listAllowed()}`);
  }
  const next = tokens[nameIndex + 1];
  if (isPunctuation(next, '=') || isPunctuation(next, '==')) {
    throw forbidden(`PRAGMA ${name} = ... is not allowed: pragmas may only be read`);
  }
  if (isPunctuation(next, '(') && !PRAGMAS_TAKING_A_NAME.has(name)) {
    throw forbidden(`PRAGMA ${name}(...) is not allowed: pragmas may only be read`);
  }
}

/**
 * Function calls and table-valued pragma functions can appear anywhere in a
 * statement. `pragma_optimize` and friends run the pragma of that name, so
 * they follow the same allow-list. SQLite accepts a single-quoted string where
 * a table name is expected (`FROM 'pragma_optimize'`), so strings that are
 * exactly such a name are refused too.
 */
function checkTokens(tokens: readonly Token[]): void {
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index];
    if (token.kind !== 'word' && token.kind !== 'quoted_identifier' && token.kind !== 'string') continue;
    const value = token.value.toLowerCase();
    if (value === 'load_extension' && token.kind !== 'string' && isPunctuation(tokens[index + 1], '(')) {
      throw forbidden('load_extension() is not allowed: it loads code from outside the engine');
    }
    const pragma = PRAGMA_FUNCTION.exec(value);
    if (pragma !== null && !PRAGMAS_ALLOWED.has(pragma[1])) {
      throw forbidden(`${value} is not allowed: it runs PRAGMA ${pragma[1]}; allowed read-only pragmas: ${listAllowed()}`);
    }
  }
}

/**
 * True when a statement could change a connection setting: SQL has no way to
 * do so but a PRAGMA (statement or pragma_ function; sqlite3_db_config is not
 * reachable from SQL), so a statement none of whose words, names or strings
 * mentions one cannot, and the engine skips reading the settings back after it
 * (connection-settings.ts; ~15 µs a script).
 */
export function mentionsPragma(tokens: readonly Token[]): boolean {
  return tokens.some(
    (token) => (token.kind === 'word' || token.kind === 'quoted_identifier' || token.kind === 'string') && /pragma/i.test(token.value),
  );
}

function listAllowed(): string {
  return [...PRAGMAS_ALLOWED].join(', ');
}

function forbidden(message: string): DdbError {
  return new DdbError('FORBIDDEN_STATEMENT', message);
}
