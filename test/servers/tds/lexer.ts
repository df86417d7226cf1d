// T-SQL tokens, and the split of a batch into statements: at `;`, and where a new statement
// starts on its own (tedious's login batch is `set …` lines without semicolons).
import { sqlErrors } from './errors.ts';

export type TokenKind =
  | 'word' // identifier or keyword
  | 'quoted' // [name] or "name": always an identifier
  | 'string' // '…'
  | 'nstring' // N'…'
  | 'number'
  | 'binary' // 0x…
  | 'variable' // @name, lower-cased (T-SQL variable names are case-insensitive)
  | 'system' // @@NAME, upper-cased
  | 'symbol';

export interface Token {
  readonly kind: TokenKind;
  /** The name or literal value (unquoted, unescaped). */
  readonly text: string;
  /** Upper-cased text of a word, to compare keywords. */
  readonly upper: string;
}

const SYMBOLS = ['<=', '>=', '<>', '!=', '!<', '!>', '||', '::'];

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const push = (kind: TokenKind, text: string): void => {
    tokens.push({ kind, text, upper: kind === 'word' || kind === 'system' ? text.toUpperCase() : text });
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] ?? '';
    const next = sql[i + 1] ?? '';
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      let depth = 0;
      do {
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else i++;
      } while (depth > 0 && i < sql.length);
    } else if (c === "'" || ((c === 'N' || c === 'n') && next === "'")) {
      const national = c !== "'";
      let j = national ? i + 2 : i + 1;
      let text = '';
      for (;;) {
        if (j >= sql.length) throw sqlErrors.syntax(sql.slice(i, i + 20));
        if (sql[j] === "'") {
          if (sql[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += sql[j];
        j++;
      }
      push(national ? 'nstring' : 'string', text);
      i = j + 1;
    } else if (c === '[' || c === '"') {
      const close = c === '[' ? ']' : '"';
      let j = i + 1;
      let text = '';
      for (;;) {
        if (j >= sql.length) throw sqlErrors.syntax(sql.slice(i, i + 20));
        if (sql[j] === close) {
          if (sql[j + 1] === close) {
            text += close;
            j += 2;
            continue;
          }
          break;
        }
        text += sql[j];
        j++;
      }
      push('quoted', text);
      i = j + 1;
    } else if (c === '0' && (next === 'x' || next === 'X')) {
      const match = /^0x[0-9a-f]*/i.exec(sql.slice(i)) ?? ['0x'];
      push('binary', match[0].slice(2));
      i += match[0].length;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next))) {
      const match = /^(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?/i.exec(sql.slice(i)) ?? [c];
      push('number', match[0]);
      i += match[0].length;
    } else if (c === '@') {
      const system = next === '@';
      const match = /^@@?[\w#$@]*/.exec(sql.slice(i)) ?? ['@'];
      push(system ? 'system' : 'variable', system ? match[0] : match[0].toLowerCase());
      i += match[0].length;
    } else if (/[\p{L}_#]/u.test(c)) {
      const match = /^[\p{L}_#][\p{L}\p{N}_#$@]*/u.exec(sql.slice(i)) ?? [c];
      push('word', match[0]);
      i += match[0].length;
    } else {
      const symbol = SYMBOLS.find((candidate) => sql.startsWith(candidate, i)) ?? c;
      push('symbol', symbol);
      i += symbol.length;
    }
  }
  return tokens;
}

/** Keywords that start a statement when they appear at the top level of the batch. */
const STARTS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'ALTER',
  'TRUNCATE',
  'SET',
  'DECLARE',
  'EXEC',
  'EXECUTE',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'SAVE',
  'WAITFOR',
  'IF',
  'PRINT',
  'USE',
  'MERGE',
  'RETURN',
]);

/** A keyword that begins a statement (SELECT, SET, IF, …). */
export const startsStatement = (token: Token | undefined): boolean =>
  token?.kind === 'word' && STARTS.has(token.upper);

export const isWord = (token: Token | undefined, ...words: string[]): boolean =>
  token?.kind === 'word' && words.includes(token.upper);

export const isSymbol = (token: Token | undefined, symbol: string): boolean =>
  token?.kind === 'symbol' && token.text === symbol;

/** Splits a batch into statements (token lists without the `;`). */
export function splitStatements(tokens: readonly Token[]): Token[][] {
  const statements: Token[][] = [];
  let current: Token[] = [];
  let depth = 0;
  // The keyword of the statement (or IF branch) being read, and what it has seen so far.
  let head = '';
  let seenSet = false;
  let seenValues = false;
  let ifPhase: 'none' | 'condition' | 'branch' | 'else' = 'none';
  let cases = 0; // CASE … END nesting: its ELSE is not the IF's
  const finish = (): void => {
    if (current.length > 0) statements.push(current);
    current = [];
    head = '';
    ifPhase = 'none';
    cases = 0;
  };
  const begin = (token: Token): void => {
    head = token.upper;
    seenSet = false;
    seenValues = false;
  };
  for (const token of tokens) {
    if (isSymbol(token, ';') && depth === 0) {
      finish();
      continue;
    }
    if (isSymbol(token, '(')) depth++;
    if (isSymbol(token, ')')) depth = Math.max(0, depth - 1);
    if (isWord(token, 'CASE')) cases++;
    if (isWord(token, 'END')) cases = Math.max(0, cases - 1);
    if (depth === 0 && token.kind === 'word') {
      const previous = current[current.length - 1];
      if (current.length === 0) {
        begin(token);
        if (token.upper === 'IF') ifPhase = 'condition';
      } else if (ifPhase === 'branch' && token.upper === 'ELSE' && cases === 0) {
        ifPhase = 'else';
        head = '';
      } else if (STARTS.has(token.upper)) {
        const continues =
          (token.upper === 'SELECT' &&
            ((head === 'INSERT' && !seenValues) ||
              isWord(previous, 'UNION', 'ALL', 'EXCEPT', 'INTERSECT') ||
              head === 'WITH')) ||
          (token.upper === 'SET' && head === 'UPDATE' && !seenSet) ||
          ((token.upper === 'EXEC' || token.upper === 'EXECUTE') && head === 'INSERT') ||
          // DROP TABLE IF EXISTS, CREATE TABLE IF NOT EXISTS
          (token.upper === 'IF' && isWord(previous, 'TABLE', 'INDEX'));
        if (ifPhase === 'condition' || (ifPhase === 'else' && head === '')) {
          if (ifPhase === 'condition') ifPhase = 'branch';
          begin(token);
        } else if (!continues) {
          finish();
          begin(token);
          if (token.upper === 'IF') ifPhase = 'condition';
        }
      }
      if (token.upper === 'SET' && head === 'UPDATE') seenSet = true;
      if (token.upper === 'VALUES') seenValues = true;
    }
    current.push(token);
  }
  finish();
  return statements;
}
