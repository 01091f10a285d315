/**
 * A tokenizer for SQLite's dialect of SQL: just enough to split scripts into
 * statements and classify them without being fooled by keywords inside string
 * literals, quoted identifiers or comments. Where a token ends follows SQLite's
 * own tokenizer (tokenize.c); it does not parse, and it never fails: text that
 * SQLite would reject (an unterminated string, a stray character) still becomes
 * a token, so SQLite gets to report the error with its own message.
 */

export type TokenKind =
  | 'word' // a keyword or a bare identifier
  | 'quoted_identifier' // "x", `x` or [x]
  | 'string' // 'x'
  | 'blob' // x'00'
  | 'number'
  | 'parameter' // ?, ?1, :name, @name, $name
  | 'punctuation';

export interface Token {
  kind: TokenKind;
  /** The token exactly as written. */
  text: string;
  /** Words: the text; strings and quoted identifiers: the content without quotes and escapes. */
  value: string;
  /** Offset of the first character in the script. */
  start: number;
  /** Offset just past the last character. */
  end: number;
}

const WHITESPACE = /[ \t\n\f\r]+/y;
const LINE_COMMENT = /--[^\n]*/y;
const BLOCK_COMMENT = /\/\*[\s\S]*?(\*\/|$)/y;
const STRING = /'(?:[^']|'')*('|$)/y;
const DOUBLE_QUOTED = /"(?:[^"]|"")*("|$)/y;
const BACKTICK_QUOTED = /`(?:[^`]|``)*(`|$)/y;
const BRACKET_QUOTED = /\[[^\]]*(\]|$)/y;
const BLOB = /[xX]'[^']*('|$)/y;
const NUMBER = /(?:0[xX][0-9A-Fa-f_]*|[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]+)?[A-Za-z0-9_]*/y;
const PARAMETER = /\?[0-9]*|[:@$][A-Za-z0-9_$\u0080-\uffff]+(?:::[A-Za-z0-9_$\u0080-\uffff]+)*/y;
const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y;
const OPERATOR = /->>|->|\|\||<=|>=|<>|!=|==|<<|>>|[\s\S]/y;

interface Rule {
  pattern: RegExp;
  kind: TokenKind | 'skip';
}

const RULE_WHITESPACE: Rule = { pattern: WHITESPACE, kind: 'skip' };
const RULE_LINE_COMMENT: Rule = { pattern: LINE_COMMENT, kind: 'skip' };
const RULE_BLOCK_COMMENT: Rule = { pattern: BLOCK_COMMENT, kind: 'skip' };
const RULE_STRING: Rule = { pattern: STRING, kind: 'string' };
const RULE_DOUBLE_QUOTED: Rule = { pattern: DOUBLE_QUOTED, kind: 'quoted_identifier' };
const RULE_BACKTICK_QUOTED: Rule = { pattern: BACKTICK_QUOTED, kind: 'quoted_identifier' };
const RULE_BRACKET_QUOTED: Rule = { pattern: BRACKET_QUOTED, kind: 'quoted_identifier' };
const RULE_BLOB: Rule = { pattern: BLOB, kind: 'blob' };
const RULE_NUMBER: Rule = { pattern: NUMBER, kind: 'number' };
const RULE_PARAMETER: Rule = { pattern: PARAMETER, kind: 'parameter' };
const RULE_WORD: Rule = { pattern: WORD, kind: 'word' };
const RULE_OPERATOR: Rule = { pattern: OPERATOR, kind: 'punctuation' };

export function tokenize(script: string): Token[] {
  const tokens: Token[] = [];
  let offset = 0;
  while (offset < script.length) {
    const { rule, end } = matchRule(script, offset);
    if (rule.kind !== 'skip') {
      const text = script.slice(offset, end);
      tokens.push({ kind: rule.kind, text, value: unquote(rule.kind, text), start: offset, end });
    }
    offset = end;
  }
  return tokens;
}

/** Picks the one rule the first characters call for (trying them all costs 10x on long scripts). */
function matchRule(script: string, offset: number): { rule: Rule; end: number } {
  const rule = ruleFor(script[offset], script[offset + 1] ?? '');
  rule.pattern.lastIndex = offset;
  if (rule.pattern.test(script) && rule.pattern.lastIndex > offset) return { rule, end: rule.pattern.lastIndex };
  // A ':' or '@' without a name, say: a one-character operator, which SQLite will reject.
  return { rule: RULE_OPERATOR, end: offset + 1 };
}

function ruleFor(first: string, second: string): Rule {
  switch (first) {
    case ' ': case '\t': case '\n': case '\f': case '\r':
      return RULE_WHITESPACE;
    case '-':
      return second === '-' ? RULE_LINE_COMMENT : RULE_OPERATOR;
    case '/':
      return second === '*' ? RULE_BLOCK_COMMENT : RULE_OPERATOR;
    case "'":
      return RULE_STRING;
    case '"':
      return RULE_DOUBLE_QUOTED;
    case '`':
      return RULE_BACKTICK_QUOTED;
    case '[':
      return RULE_BRACKET_QUOTED;
    case '?': case ':': case '@': case '$':
      return RULE_PARAMETER;
    case '.':
      return isDigit(second) ? RULE_NUMBER : RULE_OPERATOR;
  }
  if ((first === 'x' || first === 'X') && second === "'") return RULE_BLOB;
  if (isDigit(first)) return RULE_NUMBER;
  if (isIdentifierStart(first)) return RULE_WORD;
  return RULE_OPERATOR;
}

function isDigit(character: string): boolean {
  return character >= '0' && character <= '9';
}

function isIdentifierStart(character: string): boolean {
  return (character >= 'a' && character <= 'z') || (character >= 'A' && character <= 'Z') || character === '_' || character >= '\u0080';
}

function unquote(kind: TokenKind, text: string): string {
  if (kind === 'string') return stripQuotes(text, "'");
  if (kind !== 'quoted_identifier') return text;
  const open = text[0];
  if (open === '[') return text.endsWith(']') ? text.slice(1, -1) : text.slice(1);
  return stripQuotes(text, open);
}

function stripQuotes(text: string, quote: string): string {
  const closed = text.length >= 2 && text.endsWith(quote);
  const inner = closed ? text.slice(1, -1) : text.slice(1);
  return inner.split(quote + quote).join(quote);
}

/** The upper-case keyword a token spells, or '' when it is not a bare word. */
export function keywordOf(token: Token | undefined): string {
  return token !== undefined && token.kind === 'word' ? token.text.toUpperCase() : '';
}

/** True when the token names something: a bare word or a quoted identifier. */
export function isIdentifier(token: Token | undefined): token is Token {
  return token !== undefined && (token.kind === 'word' || token.kind === 'quoted_identifier');
}

export function isPunctuation(token: Token | undefined, text: string): boolean {
  return token !== undefined && token.kind === 'punctuation' && token.text === text;
}
