/**
 * Statement splitting and classification. ddb writes no SQL of its own beyond
 * this: SQLite parses and runs every statement; ddb only needs to know where
 * statements end, whether a script reads or writes (reads are answered
 * locally, writes go through the log), whether it is privileged (schema
 * changes run only on the master), and whether it stays inside the sandbox.
 */
import { DdbError } from '../utils/errors';
import { checkSandbox, explainedStatement, mentionsPragma } from './sql-sandbox';
import { inStatement } from './statement-errors';
import { isPunctuation, keywordOf, tokenize, type Token } from './sql-tokenizer';

/** A bound on work per script: a script is one log entry, applied on every node. */
export const STATEMENTS_PER_SCRIPT_MAX = 10_000;

export interface ParsedStatement {
  /** The statement's text without the terminating semicolon or surrounding comments. */
  text: string;
  tokens: Token[];
}

export interface ScriptClass {
  kind: 'read' | 'write';
  privileged: boolean;
  statements: string[];
}

export interface StatementClass {
  kind: 'read' | 'write';
  /** Creates, alters or drops a database, table, index, view or trigger. */
  privileged: boolean;
  /** Creates a TEMP object, which lives only until the script ends (see script-runner.ts). */
  temporary: boolean;
}

export interface ScriptAnalysis extends ScriptClass {
  parsed: ParsedStatement[];
  /** Some statement creates a TEMP table, view or trigger. */
  temporary: boolean;
  /** Some statement mentions a pragma: the engine checks the pinned connection settings after the script. */
  mentions_pragma: boolean;
}

/** Splits a script into statements; empty statements (`;;`, comments only) are dropped. */
export function splitStatements(script: string): string[] {
  return parseStatements(script).map((statement) => statement.text);
}

export function parseStatements(script: string): ParsedStatement[] {
  const statements: ParsedStatement[] = [];
  let current: Token[] = [];
  const trigger = new TriggerBodyTracker();
  for (const token of tokenize(script)) {
    if (isPunctuation(token, ';') && !trigger.inBody()) {
      pushStatement(script, current, statements);
      current = [];
      trigger.reset();
      continue;
    }
    current.push(token);
    trigger.observe(current);
  }
  pushStatement(script, current, statements);
  return statements;
}

function pushStatement(script: string, tokens: Token[], statements: ParsedStatement[]): void {
  if (tokens.length === 0) return;
  const text = script.slice(tokens[0].start, tokens[tokens.length - 1].end);
  statements.push({ text, tokens });
}

/**
 * Inside `CREATE [TEMP] TRIGGER ... BEGIN ... END` semicolons end the trigger's
 * own statements, not the script's. CASE ... END can appear in the body, so the
 * body ends at the END that closes no CASE.
 */
class TriggerBodyTracker {
  private isTrigger = false;
  private body = false;
  private caseDepth = 0;

  inBody(): boolean {
    return this.body;
  }

  reset(): void {
    this.isTrigger = false;
    this.body = false;
    this.caseDepth = 0;
  }

  /** Called with the statement's tokens so far, the newest last. */
  observe(tokens: readonly Token[]): void {
    const keyword = keywordOf(tokens[tokens.length - 1]);
    if (tokens.length <= 3) {
      this.isTrigger = isCreateTrigger(tokens);
      return;
    }
    if (!this.isTrigger) return;
    if (keyword === 'BEGIN' && !this.body) this.body = true;
    else if (keyword === 'CASE' && this.body) this.caseDepth++;
    else if (keyword === 'END' && this.body) {
      if (this.caseDepth > 0) this.caseDepth--;
      else this.body = false;
    }
  }
}

function isCreateTrigger(tokens: readonly Token[]): boolean {
  if (keywordOf(tokens[0]) !== 'CREATE') return false;
  const second = keywordOf(tokens[1]);
  const kind = second === 'TEMP' || second === 'TEMPORARY' ? keywordOf(tokens[2]) : second;
  return kind === 'TRIGGER';
}

/**
 * Classifies a script: 'read' when every statement only reads, else 'write';
 * privileged when any statement changes a schema or the set of databases.
 * Throws FORBIDDEN_STATEMENT for anything outside the sandbox (naming the
 * statement, see statement-errors.ts) and INVALID_REQUEST for a script
 * without statements.
 */
export function classifyScript(script: string): ScriptClass {
  const { kind, privileged, statements } = analyzeScript(script);
  return { kind, privileged, statements };
}

export function analyzeScript(script: string): ScriptAnalysis {
  const parsed = parseStatements(script);
  if (parsed.length === 0) {
    throw new DdbError('INVALID_REQUEST', 'the SQL script has no statements');
  }
  if (parsed.length > STATEMENTS_PER_SCRIPT_MAX) {
    throw new DdbError('INVALID_REQUEST', `a SQL script may hold at most ${STATEMENTS_PER_SCRIPT_MAX} statements`);
  }
  let read = true;
  let privileged = false;
  let temporary = false;
  for (const [index, statement] of parsed.entries()) {
    inStatement(index, parsed.length, () => checkSandbox(statement.tokens));
    const statementClass = classifyStatement(statement.tokens);
    read = read && statementClass.kind === 'read';
    privileged = privileged || statementClass.privileged;
    temporary = temporary || statementClass.temporary;
  }
  const statements = parsed.map((statement) => statement.text);
  const mentions_pragma = parsed.some((statement) => mentionsPragma(statement.tokens));
  return { kind: read ? 'read' : 'write', privileged, temporary, mentions_pragma, statements, parsed };
}

const READ_VERBS: ReadonlySet<string> = new Set(['SELECT', 'VALUES', 'SHOW', 'PRAGMA', 'USE']);
const SCHEMA_VERBS: ReadonlySet<string> = new Set(['CREATE', 'DROP', 'ALTER']);

/**
 * A textual check of the leading keyword; when in doubt, 'write'. PRAGMA
 * counts as a read because the sandbox lets only read-only pragmas through;
 * USE because it changes nothing but the database the rest of its script runs in.
 * `EXPLAIN [QUERY PLAN] x` is classified as x is: SQLite prepares x to explain
 * it, and preparing is where some statements (pragmas) take effect, so the
 * explanation of a write is a write (it goes through the log, where it is
 * harmless and the same on every node) and never runs as a local read.
 */
export function classifyStatement(allTokens: readonly Token[]): StatementClass {
  const tokens = explainedStatement(allTokens);
  const verb = keywordOf(tokens[0]);
  if (verb === 'WITH') {
    const main = mainVerbAfterWith(tokens);
    return { kind: main === 'SELECT' || main === 'VALUES' ? 'read' : 'write', privileged: false, temporary: false };
  }
  if (READ_VERBS.has(verb)) return { kind: 'read', privileged: false, temporary: false };
  if (SCHEMA_VERBS.has(verb)) {
    const second = keywordOf(tokens[1]);
    const temporary = verb === 'CREATE' && (second === 'TEMP' || second === 'TEMPORARY');
    return { kind: 'write', privileged: true, temporary };
  }
  return { kind: 'write', privileged: false, temporary: false };
}

/** An INSERT or REPLACE (also after WITH): the only statements that give a row a new rowid. */
export function isInsertStatement(tokens: readonly Token[]): boolean {
  const verb = keywordOf(tokens[0]);
  const main = verb === 'WITH' ? mainVerbAfterWith(tokens) : verb;
  return main === 'INSERT' || main === 'REPLACE';
}

/** The first statement keyword after the common table expressions, which are all in parentheses. */
function mainVerbAfterWith(tokens: readonly Token[]): string {
  const verbs = new Set(['SELECT', 'VALUES', 'INSERT', 'UPDATE', 'DELETE', 'REPLACE']);
  let depth = 0;
  for (let index = 1; index < tokens.length; index++) {
    const token = tokens[index];
    if (isPunctuation(token, '(')) depth++;
    else if (isPunctuation(token, ')')) depth--;
    else if (depth === 0 && verbs.has(keywordOf(token))) return keywordOf(token);
  }
  return '';
}
