// T-SQL tokens back to SQLite text: identifiers quoted with "", N'' literals as '', the `dbo.`
// schema dropped, table hints dropped, and the few built-in functions and @@variables of the
// emulated subset turned into SQLite functions or bound values (see translate.ts for the list).
import { sqlErrors } from './errors.ts';
import { isSymbol, isWord, type Token } from './lexer.ts';
import { PRODUCT_VERSION } from './tokens.ts';
import { parseSqlType, type SqlType } from './types.ts';

export const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const quoteString = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** @@variables, bound by the engine as `@__name` values. */
export const SYSTEM_VARIABLES: Readonly<Record<string, SqlType>> = {
  '@@VERSION': { name: 'nvarchar', length: 300 },
  '@@SPID': { name: 'smallint' },
  '@@TRANCOUNT': { name: 'int' },
  '@@ROWCOUNT': { name: 'int' },
  '@@IDENTITY': { name: 'numeric', precision: 38, scale: 0 },
  '@@LOCK_TIMEOUT': { name: 'int' },
  '@@SERVERNAME': { name: 'nvarchar', length: 128 },
  '@@ERROR': { name: 'int' },
  '@@LANGUAGE': { name: 'nvarchar', length: 128 },
};
export const systemParameter = (name: string): string => `__${name.slice(2).toLowerCase()}`;

const SERVER_PROPERTIES: Readonly<Record<string, string>> = {
  PRODUCTVERSION: PRODUCT_VERSION.text,
  PRODUCTLEVEL: 'RTM',
  EDITION: 'Developer Edition (64-bit)',
  ENGINEEDITION: '3',
  PRODUCTMAJORVERSION: String(PRODUCT_VERSION.major),
  SERVERNAME: 'berth-tds',
  MACHINENAME: 'berth-tds',
  COLLATION: 'Latin1_General_100_CI_AS_SC_UTF8',
  ISINTEGRATEDSECURITYONLY: '0',
};

const TABLE_HINTS = new Set([
  'NOLOCK',
  'READUNCOMMITTED',
  'UPDLOCK',
  'ROWLOCK',
  'PAGLOCK',
  'TABLOCK',
  'TABLOCKX',
  'HOLDLOCK',
  'READCOMMITTED',
  'READCOMMITTEDLOCK',
  'REPEATABLEREAD',
  'SERIALIZABLE',
  'READPAST',
  'XLOCK',
  'NOWAIT',
]);

/** Simple renames: T-SQL function → SQLite (or one the engine registers). */
const FUNCTIONS: Readonly<Record<string, string>> = {
  ISNULL: 'ifnull',
  LEN: 'tds_len',
  DATALENGTH: 'tds_datalength',
  COUNT_BIG: 'count',
  SUBSTRING: 'substr',
  NEWID: 'tds_newid',
  GETDATE: 'tds_getdate',
  SYSDATETIME: 'tds_sysdatetime',
  GETUTCDATE: 'tds_getutcdate',
  SYSUTCDATETIME: 'tds_sysutcdatetime',
  SYSDATETIMEOFFSET: 'tds_sysdatetimeoffset',
};

/** Removes `dbo.` and `db.dbo.` before names, and `WITH (NOLOCK, …)` table hints. */
export function normalize(tokens: readonly Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (!token) continue;
    const name = token.kind === 'word' || token.kind === 'quoted' ? token.text.toLowerCase() : undefined;
    if (name === 'dbo' && isSymbol(tokens[i + 1], '.')) {
      const previous = out[out.length - 1];
      if (isSymbol(previous, '.') && out.length >= 2) out.splice(-2, 2); // database name
      i++;
      continue;
    }
    if (isWord(token, 'WITH') && isSymbol(tokens[i + 1], '(') && out.length > 0) {
      let j = i + 2;
      while (j < tokens.length && (isSymbol(tokens[j], ',') || TABLE_HINTS.has(tokens[j]?.upper ?? ''))) j++;
      if (j > i + 2 && isSymbol(tokens[j], ')')) {
        i = j;
        continue;
      }
    }
    out.push(token);
  }
  return out;
}

/** Index of the `)` that closes the `(` at `open`. */
export function closing(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (isSymbol(tokens[i], '(')) depth++;
    else if (isSymbol(tokens[i], ')') && --depth === 0) return i;
  }
  throw sqlErrors.syntax('(');
}

/** A type written as tokens at `start`: its SqlType and where it ends. */
export function readType(tokens: readonly Token[], start: number): { type: SqlType; end: number } {
  const first = tokens[start];
  if (!first || (first.kind !== 'word' && first.kind !== 'quoted')) throw sqlErrors.syntax(first?.text ?? '');
  let text = first.text;
  let end = start + 1;
  if (isWord(first, 'DOUBLE') && isWord(tokens[end], 'PRECISION')) {
    text = 'float';
    end++;
  }
  if (isSymbol(tokens[end], '(')) {
    const close = closing(tokens, end);
    text += `(${tokens
      .slice(end + 1, close)
      .map((token) => token.text)
      .join('')})`;
    end = close + 1;
  }
  const type = parseSqlType(text);
  if (!type) throw sqlErrors.unsupported(`type ${text}`);
  return { type, end };
}

/** The SQLite type to CAST to: its affinity decides what SQLite stores. */
function castType(type: SqlType): string {
  switch (type.name) {
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint':
    case 'bit':
      return 'INTEGER';
    case 'float':
    case 'real':
      return 'REAL';
    case 'varbinary':
      return 'BLOB';
    default:
      return 'TEXT'; // decimals stay exact, temporal values keep their text
  }
}

/** The name in OBJECT_ID(N'[dbo].[t]'): the table name. */
function objectName(literal: string): string {
  const parts = literal.split('.').map((part) => part.replace(/^\[|\]$/g, '').replace(/^"|"$/g, ''));
  return parts[parts.length - 1] ?? '';
}

/** SQLite text for normalized tokens. */
export function render(tokens: readonly Token[]): string {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (!token) continue;
    const next = tokens[i + 1];
    switch (token.kind) {
      case 'quoted':
        out.push(quoteIdentifier(token.text));
        break;
      case 'string':
      case 'nstring':
        out.push(quoteString(token.text));
        break;
      case 'binary':
        out.push(`X'${token.text.length % 2 === 1 ? `0${token.text}` : token.text}'`);
        break;
      case 'system':
        if (!(token.upper in SYSTEM_VARIABLES)) throw sqlErrors.unsupported(token.text);
        out.push(`@${systemParameter(token.upper)}`);
        break;
      case 'word': {
        if (!isSymbol(next, '(')) {
          out.push(isWord(token, 'CURRENT_TIMESTAMP') ? 'tds_getdate()' : token.text);
          break;
        }
        const close = closing(tokens, i + 1);
        const inner = tokens.slice(i + 2, close);
        if (token.upper === 'SCOPE_IDENTITY' && inner.length === 0) {
          out.push('@__scope_identity');
        } else if (token.upper === 'DB_NAME' && inner.length === 0) {
          out.push('@__db_name');
        } else if (
          token.upper === 'SERVERPROPERTY' &&
          inner.length === 1 &&
          inner[0]?.kind.endsWith('string')
        ) {
          const value = SERVER_PROPERTIES[(inner[0]?.text ?? '').toUpperCase()];
          out.push(value === undefined ? 'NULL' : quoteString(value));
        } else if (token.upper === 'OBJECT_ID' && inner[0]?.kind.endsWith('string')) {
          const name = quoteString(objectName(inner[0]?.text ?? ''));
          out.push(
            `(SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND lower(name) = lower(${name}))`,
          );
        } else if (token.upper === 'CAST') {
          const as = inner.findIndex((part, index) => isWord(part, 'AS') && depthAt(inner, index) === 0);
          if (as < 0) throw sqlErrors.syntax('CAST');
          const { type } = readType(inner, as + 1);
          out.push(`CAST(${render(inner.slice(0, as))} AS ${castType(type)})`);
        } else if (token.upper === 'CONVERT') {
          const { type, end } = readType(inner, 0);
          if (!isSymbol(inner[end], ',')) throw sqlErrors.syntax('CONVERT');
          const rest = inner.slice(end + 1);
          const style = rest.findIndex((part, index) => isSymbol(part, ',') && depthAt(rest, index) === 0);
          out.push(`CAST(${render(style < 0 ? rest : rest.slice(0, style))} AS ${castType(type)})`);
        } else {
          out.push(`${FUNCTIONS[token.upper] ?? token.text}(${render(inner)})`);
        }
        i = close;
        break;
      }
      default:
        out.push(token.text);
    }
  }
  return out.join(' ');
}

/** Parenthesis depth just before `index` (0 at the top level of `tokens`). */
export function depthAt(tokens: readonly Token[], index: number): number {
  let depth = 0;
  for (let i = 0; i < index; i++) {
    if (isSymbol(tokens[i], '(')) depth++;
    else if (isSymbol(tokens[i], ')')) depth--;
  }
  return depth;
}
