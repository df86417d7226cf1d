// SELECT, INSERT, UPDATE and DELETE: TOP and OFFSET/FETCH become LIMIT/OFFSET, OUTPUT becomes
// RETURNING, and each result column gets SQL Server's name ('' for an unnamed expression) and,
// where the text says, its type (a literal, a variable, CAST, COUNT, …).
import { sqlErrors } from './errors.ts';
import { isSymbol, isWord, type Token } from './lexer.ts';
import { closing, readType, render, SYSTEM_VARIABLES } from './render.ts';
import type { ColumnHint, Statement, Verb } from './statements.ts';
import type { SqlType } from './types.ts';

const raw = (text: string): Token => ({ kind: 'symbol', text, upper: text });
const quoted = (text: string): Token => ({ kind: 'quoted', text, upper: text });
const isName = (token: Token | undefined): boolean => token?.kind === 'word' || token?.kind === 'quoted';

/** Where the SELECT at `at` ends: the `)` around it, or the end of the statement. */
function scopeEnd(tokens: readonly Token[], at: number): number {
  let depth = 0;
  for (let i = at; i < tokens.length; i++) {
    if (isSymbol(tokens[i], '(')) depth++;
    else if (isSymbol(tokens[i], ')') && --depth < 0) return i;
  }
  return tokens.length;
}

/** Tokens from `at` up to (not including) the first top-level word in `stops`. */
function until(tokens: readonly Token[], at: number, stops: readonly string[], end = tokens.length): number {
  let depth = 0;
  for (let i = at; i < end; i++) {
    if (isSymbol(tokens[i], '(')) depth++;
    else if (isSymbol(tokens[i], ')')) depth--;
    else if (depth === 0 && isWord(tokens[i], ...stops)) return i;
  }
  return end;
}

/** TOP (n) and OFFSET … FETCH … as SQLite's LIMIT … OFFSET …, at every level. */
export function limits(input: readonly Token[]): Token[] {
  let tokens = [...input];
  for (let i = 0; i < tokens.length; i++) {
    if (isWord(tokens[i], 'SELECT', 'UPDATE', 'DELETE', 'INSERT')) {
      let top = i + 1;
      if (isWord(tokens[top], 'DISTINCT', 'ALL')) top++;
      if (!isWord(tokens[top], 'TOP')) continue;
      if (!isWord(tokens[i], 'SELECT')) throw sqlErrors.unsupported(`${tokens[i]?.text ?? ''} TOP`);
      let count: Token[];
      let after: number;
      if (isSymbol(tokens[top + 1], '(')) {
        const close = closing(tokens, top + 1);
        count = tokens.slice(top + 2, close);
        after = close + 1;
      } else {
        count = tokens.slice(top + 1, top + 2);
        after = top + 2;
      }
      if (
        isWord(tokens[after], 'PERCENT') ||
        (isWord(tokens[after], 'WITH') && isWord(tokens[after + 1], 'TIES'))
      ) {
        throw sqlErrors.unsupported(`TOP … ${tokens[after]?.text ?? ''}`);
      }
      tokens.splice(top, after - top);
      const end = scopeEnd(tokens, i);
      if (until(tokens, i, ['UNION', 'EXCEPT', 'INTERSECT', 'OFFSET'], end) < end) {
        throw sqlErrors.unsupported('TOP with UNION or OFFSET');
      }
      tokens.splice(end, 0, raw('LIMIT'), raw('('), ...count, raw(')'));
    } else if (isWord(tokens[i], 'OFFSET')) {
      const rows = until(tokens, i + 1, ['ROW', 'ROWS']);
      const skip = tokens.slice(i + 1, rows);
      let end = rows + 1;
      let take: Token[] = [raw('-1')];
      if (isWord(tokens[end], 'FETCH') && isWord(tokens[end + 1], 'NEXT', 'FIRST')) {
        const only = until(tokens, end + 2, ['ROW', 'ROWS']);
        take = tokens.slice(end + 2, only);
        if (!isWord(tokens[only + 1], 'ONLY')) throw sqlErrors.syntax(tokens[only + 1]?.text ?? 'FETCH');
        end = only + 2;
      }
      tokens = [
        ...tokens.slice(0, i),
        raw('LIMIT'),
        raw('('),
        ...take,
        raw(')'),
        raw('OFFSET'),
        raw('('),
        ...skip,
        raw(')'),
        ...tokens.slice(end),
      ];
    }
  }
  return tokens;
}

function literalType(token: Token): SqlType | undefined {
  if (token.kind === 'nstring') return { name: 'nvarchar', length: Math.max(1, token.text.length) };
  if (token.kind === 'string') return { name: 'varchar', length: Math.max(1, Buffer.byteLength(token.text)) };
  if (token.kind !== 'number') return undefined;
  if (/^\d+$/.test(token.text)) {
    if (BigInt(token.text) <= 2147483647n) return { name: 'int' };
    return { name: 'numeric', precision: Math.min(38, token.text.length), scale: 0 };
  }
  if (/e/i.test(token.text)) return { name: 'float' };
  const [whole = '', fraction = ''] = token.text.split('.');
  return {
    name: 'numeric',
    precision: Math.min(38, Math.max(1, whole.length + fraction.length)),
    scale: fraction.length,
  };
}

const FUNCTION_TYPES: Readonly<Record<string, SqlType>> = {
  COUNT: { name: 'int' },
  COUNT_BIG: { name: 'bigint' },
  SCOPE_IDENTITY: { name: 'numeric', precision: 38, scale: 0 },
  GETDATE: { name: 'datetime' },
  GETUTCDATE: { name: 'datetime' },
  SYSDATETIME: { name: 'datetime2', scale: 7 },
  SYSUTCDATETIME: { name: 'datetime2', scale: 7 },
  SYSDATETIMEOFFSET: { name: 'datetimeoffset', scale: 7 },
  NEWID: { name: 'uniqueidentifier' },
  DB_NAME: { name: 'nvarchar', length: 128 },
  SERVERPROPERTY: { name: 'nvarchar', length: 128 },
  LEN: { name: 'int' },
  DATALENGTH: { name: 'int' },
  OBJECT_ID: { name: 'int' },
};

/** What the expression of one result column says about its type. */
function hintFor(expression: readonly Token[]): ColumnHint | undefined {
  const [first, second] = expression;
  if (!first) return undefined;
  if (expression.length === 1) {
    if (first.kind === 'variable') return { variable: first.text };
    if (first.kind === 'system') {
      const type = SYSTEM_VARIABLES[first.upper];
      return type ? { type } : undefined;
    }
    if (isWord(first, 'CURRENT_TIMESTAMP')) return { type: { name: 'datetime' } };
    const type = literalType(first);
    return type ? { type } : undefined;
  }
  if (expression.length === 2 && isSymbol(first, '-') && second) {
    const type = literalType(second);
    return type ? { type } : undefined;
  }
  if (first.kind !== 'word' || !isSymbol(second, '(') || closing(expression, 1) !== expression.length - 1) {
    return undefined;
  }
  const inner = expression.slice(2, -1);
  if (first.upper === 'CAST') {
    const as = inner.findIndex((token) => isWord(token, 'AS'));
    return as < 0 ? undefined : { type: readType(inner, as + 1).type };
  }
  if (first.upper === 'CONVERT') return { type: readType(inner, 0).type };
  if (['SUM', 'MIN', 'MAX', 'AVG'].includes(first.upper)) {
    const column = inner[inner.length - 1];
    const simple = inner.length === 1 || (inner.length === 3 && isSymbol(inner[1], '.'));
    return simple && column && isName(column)
      ? { aggregate: { fn: first.upper, column: column.text } }
      : undefined;
  }
  const type = FUNCTION_TYPES[first.upper];
  return type ? { type } : undefined;
}

const NOT_ALIASES = ['END', 'NULL', 'ASC', 'DESC', 'AND', 'OR', 'NOT', 'ALL', 'DISTINCT'];

/** Names every column as SQL Server would; returns per-column hints unless there is a `*`. */
function columns(items: readonly Token[][]): { items: Token[][]; hints?: (ColumnHint | undefined)[] } {
  const hints: (ColumnHint | undefined)[] = [];
  let star = false;
  const rewritten = items.map((item) => {
    const last = item[item.length - 1];
    const beforeLast = item[item.length - 2];
    if (isSymbol(last, '*')) {
      star = true;
      return item;
    }
    let alias: string | undefined;
    let expression = item;
    if (isName(item[0]) && isSymbol(item[1], '=')) {
      alias = item[0]?.text;
      expression = item.slice(2);
    } else if (item.length >= 3 && isWord(beforeLast, 'AS') && last) {
      alias = last.text;
      expression = item.slice(0, -2);
    } else if (
      item.length >= 2 &&
      last &&
      (last.kind === 'quoted' || (last.kind === 'word' && !NOT_ALIASES.includes(last.upper))) &&
      beforeLast &&
      !isWord(beforeLast, 'AS') &&
      (beforeLast.kind !== 'symbol' || isSymbol(beforeLast, ')'))
    ) {
      alias = last.text;
      expression = item.slice(0, -1);
    }
    hints.push(hintFor(expression));
    const column =
      (expression.length === 1 && isName(expression[0])) ||
      (expression.length === 3 &&
        isName(expression[0]) &&
        isSymbol(expression[1], '.') &&
        isName(expression[2]));
    if (alias !== undefined) return [...expression, raw('AS'), quoted(alias)];
    // SQL Server names an expression without an alias '' (mssql shows it as the key '').
    return column ? expression : [...expression, raw('AS'), raw('""')];
  });
  return star ? { items: rewritten } : { items: rewritten, hints };
}

/** Splits a column list at its top-level commas. */
function splitItems(tokens: readonly Token[]): Token[][] {
  const items: Token[][] = [[]];
  let depth = 0;
  for (const token of tokens) {
    if (isSymbol(token, '(')) depth++;
    if (isSymbol(token, ')')) depth--;
    if (depth === 0 && isSymbol(token, ',')) items.push([]);
    else items[items.length - 1]?.push(token);
  }
  return items.filter((item) => item.length > 0);
}

const LIST_END = [
  'FROM',
  'WHERE',
  'GROUP',
  'HAVING',
  'ORDER',
  'UNION',
  'EXCEPT',
  'INTERSECT',
  'LIMIT',
  'OPTION',
  'FOR',
  'INTO',
];

export function select(input: readonly Token[]): Statement {
  const tokens = limits(input);
  // WITH cte AS (…) SELECT …: the column list is the main SELECT's.
  const at = isWord(tokens[0], 'WITH') ? until(tokens, 0, ['SELECT']) : 0;
  let listStart = at + 1;
  if (isWord(tokens[listStart], 'DISTINCT', 'ALL')) listStart++;
  const listEnd = until(tokens, listStart, LIST_END);
  if (isWord(tokens[listEnd], 'INTO')) throw sqlErrors.unsupported('SELECT … INTO');
  const items = splitItems(tokens.slice(listStart, listEnd));
  if (items[0]?.[0]?.kind === 'variable' && isSymbol(items[0][1], '=')) {
    // SELECT @a = expr, @b = expr FROM …: assignments from the last row.
    const targets = items.map((item) => item[0]?.text ?? '');
    const expressions = items.map((item) => render(item.slice(2)));
    return {
      kind: 'assign',
      targets,
      sql: `SELECT ${expressions.join(', ')} ${render(tokens.slice(listEnd))}`,
    };
  }
  const named = columns(items);
  const list = named.items.map(render).join(', ');
  const sql = `${render(tokens.slice(0, listStart))} ${list} ${render(tokens.slice(listEnd))}`;
  return {
    kind: 'query',
    sql,
    verb: 'select',
    returnsRows: true,
    ...(named.hints ? { hints: named.hints } : {}),
  };
}

/** OUTPUT INSERTED.a, DELETED.b → RETURNING a, b (SQLite returns the new row, or the deleted one). */
function output(
  tokens: Token[],
  at: number,
  stops: readonly string[],
  verb: Verb,
): { rest: Token[]; returning?: Token[][] } {
  const start = until(tokens, at, ['OUTPUT']);
  if (start >= tokens.length) return { rest: tokens };
  const end = until(tokens, start + 1, stops);
  const list = tokens.slice(start + 1, end);
  if (until(list, 0, ['INTO']) < list.length) throw sqlErrors.unsupported('OUTPUT … INTO');
  const cleaned: Token[] = [];
  for (let i = 0; i < list.length; i++) {
    const token = list[i];
    if (isWord(token, 'INSERTED', 'DELETED') && isSymbol(list[i + 1], '.')) {
      if (verb === 'update' && isWord(token, 'DELETED'))
        throw sqlErrors.unsupported('OUTPUT DELETED in UPDATE');
      i++;
      continue;
    }
    if (token) cleaned.push(token);
  }
  return { rest: [...tokens.slice(0, start), ...tokens.slice(end)], returning: splitItems(cleaned) };
}

export function dml(input: readonly Token[]): Statement {
  let tokens = limits(input);
  const verb = (tokens[0]?.upper.toLowerCase() ?? 'insert') as Verb;
  if (verb === 'insert' && !isWord(tokens[1], 'INTO')) tokens.splice(1, 0, raw('INTO'));
  if (verb === 'delete' && !isWord(tokens[1], 'FROM')) tokens.splice(1, 0, raw('FROM'));
  const stops = verb === 'insert' ? ['VALUES', 'SELECT', 'DEFAULT', 'WITH'] : ['FROM', 'WHERE'];
  const { rest, returning } = output(tokens, 2, stops, verb);
  tokens = rest;
  if (verb === 'delete' && until(tokens, 3, ['FROM']) < tokens.length)
    throw sqlErrors.unsupported('DELETE … FROM … JOIN');
  let sql = render(tokens);
  let hints: (ColumnHint | undefined)[] | undefined;
  if (returning) {
    const named = columns(returning);
    hints = named.hints;
    sql += ` RETURNING ${named.items.map(render).join(', ')}`;
  }
  const table = verb === 'insert' && isName(tokens[2]) ? tokens[2]?.text : undefined;
  return {
    kind: 'query',
    sql,
    verb,
    returnsRows: returning !== undefined,
    ...(hints ? { hints } : {}),
    ...(table ? { table } : {}),
  };
}
