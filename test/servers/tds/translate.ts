// The emulated T-SQL subset, translated statement by statement for SQLite. Anything else is
// answered with error 102 ("Incorrect syntax near …", outside the emulated subset).
//
//   Queries   SELECT with WHERE / GROUP BY / HAVING / ORDER BY / JOIN / UNION, TOP (n) and TOP n,
//             OFFSET n ROWS [FETCH NEXT|FIRST m ROWS ONLY], COUNT / COUNT_BIG / SUM / MIN / MAX /
//             AVG, `alias = expr` and `expr AS alias`, table hints WITH (NOLOCK, UPDLOCK, …) ignored,
//             SELECT @v = expr (assignment).
//   DML       INSERT [INTO] … VALUES (…), (…) | SELECT … | DEFAULT VALUES, UPDATE … SET … [FROM] [WHERE],
//             DELETE [FROM] … [WHERE], OUTPUT INSERTED.c / DELETED.c (as RETURNING), TRUNCATE TABLE.
//   DDL       CREATE TABLE [IF NOT EXISTS] with int, bigint, smallint, tinyint, bit, decimal(p,s),
//             numeric(p,s), float, real, nvarchar(n|max), varchar(n|max), varbinary(n|max),
//             datetime2(n), datetimeoffset(n), date, time(n), datetime, uniqueidentifier; IDENTITY(seed,1)
//             on the primary-key column, PRIMARY KEY, UNIQUE, NOT NULL, DEFAULT, CONSTRAINT names, CHECK;
//             IF OBJECT_ID(N'name'[, N'U']) IS [NOT] NULL <statement>, DROP TABLE [IF EXISTS],
//             CREATE [UNIQUE] INDEX … ON t (…), DROP INDEX ix ON t, ALTER TABLE t ADD <column>.
//   Names     [bracketed] and "quoted" identifiers, dbo. / db.dbo. prefixes dropped, N'…' literals,
//             0x… binary literals, @variables (sp_executesql parameters and DECLAREd variables).
//   Functions @@VERSION, @@SPID, @@TRANCOUNT, @@ROWCOUNT, @@IDENTITY, @@LOCK_TIMEOUT, @@SERVERNAME,
//             SERVERPROPERTY('ProductVersion' …), SCOPE_IDENTITY(), DB_NAME(), OBJECT_ID(), CAST, CONVERT
//             (no style), ISNULL, LEN, DATALENGTH, SUBSTRING, NEWID(), GETDATE(), SYSDATETIME(),
//             GETUTCDATE(), SYSUTCDATETIME(), SYSDATETIMEOFFSET(), CURRENT_TIMESTAMP; others pass to SQLite.
//   Control   BEGIN TRAN[SACTION] [name], COMMIT [TRAN], ROLLBACK [TRAN] [name|savepoint], SAVE TRAN name,
//             SET NOCOUNT ON|OFF, SET LOCK_TIMEOUT n, SET XACT_ABORT ON|OFF, SET TRANSACTION ISOLATION
//             LEVEL …, other SET options accepted and ignored, DECLARE @v type [= expr], SET @v = expr,
//             IF <condition> <statement> [ELSE <statement>], WAITFOR DELAY 'hh:mm:ss[.mmm]', USE db, PRINT,
//             EXEC [@r =] sp_getapplock @Resource, @LockMode, @LockOwner, @LockTimeout / sp_releaseapplock.
// Statements are separated by `;` or start on their own (SELECT, INSERT, SET, …). Not emulated:
// BEGIN…END blocks, TRY/CATCH, MERGE, temporary tables, cursors, `+` on strings, CHARINDEX.
import { sqlErrors } from './errors.ts';
import { isSymbol, isWord, splitStatements, startsStatement, tokenize, type Token } from './lexer.ts';
import {
  alterTableAdd,
  createIndex,
  createTable,
  dropIndex,
  dropTable,
  truncateTable,
  type Ddl,
} from './ddl.ts';
import { dml, select } from './queries.ts';
import { depthAt, normalize, readType, render } from './render.ts';
import type { Statement } from './statements.ts';
import type { SqlType } from './types.ts';

export function translateBatch(sql: string): Statement[] {
  return splitStatements(tokenize(sql)).map((tokens) => translate(normalize(tokens)));
}

function translate(tokens: readonly Token[]): Statement {
  const first = tokens[0];
  switch (first?.upper) {
    case 'SELECT':
    case 'WITH':
      return select(tokens);
    case 'INSERT':
    case 'UPDATE':
    case 'DELETE':
      return dml(tokens);
    case 'CREATE':
      if (isWord(tokens[1], 'TABLE')) return ddl(createTable(tokens));
      if (tokens.slice(1, 4).some((token) => isWord(token, 'INDEX'))) return ddl(createIndex(tokens));
      throw sqlErrors.unsupported(`CREATE ${tokens[1]?.text ?? ''}`);
    case 'DROP':
      if (isWord(tokens[1], 'TABLE')) return ddl(dropTable(tokens));
      if (isWord(tokens[1], 'INDEX')) return ddl(dropIndex(tokens));
      throw sqlErrors.unsupported(`DROP ${tokens[1]?.text ?? ''}`);
    case 'TRUNCATE':
      return ddl(truncateTable(tokens));
    case 'ALTER':
      if (isWord(tokens[1], 'TABLE'))
        return { kind: 'query', sql: alterTableAdd(tokens), verb: 'ddl', returnsRows: false };
      throw sqlErrors.unsupported(`ALTER ${tokens[1]?.text ?? ''}`);
    case 'BEGIN':
    case 'COMMIT':
    case 'ROLLBACK':
    case 'SAVE':
      return transaction(tokens);
    case 'SET':
      return set(tokens);
    case 'DECLARE':
      return declare(tokens);
    case 'EXEC':
    case 'EXECUTE':
      return exec(tokens);
    case 'WAITFOR':
      return waitfor(tokens);
    case 'IF':
      return ifStatement(tokens);
    case 'USE':
      return { kind: 'use', database: tokens[1]?.text ?? '' };
    case 'PRINT':
      return { kind: 'print', sql: render(tokens.slice(1)) };
    default:
      throw sqlErrors.syntax(first?.text ?? '');
  }
}

const ddl = ({ sql, ddl }: { sql: string; ddl: Ddl }): Statement => ({
  kind: 'query',
  sql,
  verb: 'ddl',
  returnsRows: false,
  ddl,
});

function transaction(tokens: readonly Token[]): Statement {
  const action = { BEGIN: 'begin', COMMIT: 'commit', ROLLBACK: 'rollback', SAVE: 'save' } as const;
  const kind = action[tokens[0]?.upper as keyof typeof action];
  let at = 1;
  if (isWord(tokens[at], 'TRAN', 'TRANSACTION', 'WORK')) at++;
  else if (kind === 'begin' || kind === 'save')
    throw sqlErrors.syntax(tokens[at]?.text ?? tokens[0]?.text ?? '');
  const nameToken = tokens[at];
  const name = nameToken && (nameToken.kind === 'word' || nameToken.kind === 'quoted') ? nameToken.text : '';
  if (kind === 'save' && !name) throw sqlErrors.syntax('SAVE TRANSACTION');
  return { kind: 'transaction', action: kind, name };
}

function set(tokens: readonly Token[]): Statement {
  const target = tokens[1];
  if (target?.kind === 'variable') {
    if (!isSymbol(tokens[2], '=')) throw sqlErrors.unsupported(`SET ${target.text} ${tokens[2]?.text ?? ''}`);
    return { kind: 'assign', targets: [target.text], sql: `SELECT ${render(tokens.slice(3))}` };
  }
  const option = (target?.upper ?? '').toLowerCase();
  if (option === 'transaction') {
    const level = tokens
      .slice(4)
      .map((token) => token.upper)
      .join(' ');
    return { kind: 'set', option: 'isolation', value: level };
  }
  return {
    kind: 'set',
    option,
    value: tokens
      .slice(2)
      .map((token) => token.text)
      .join(' '),
  };
}

function declare(tokens: readonly Token[]): Statement {
  const variables: { name: string; type: SqlType; init?: string }[] = [];
  let at = 1;
  while (at < tokens.length) {
    const variable = tokens[at];
    if (variable?.kind !== 'variable') throw sqlErrors.syntax(variable?.text ?? 'DECLARE');
    at++;
    if (isWord(tokens[at], 'AS')) at++;
    const { type, end } = readType(tokens, at);
    at = end;
    let init: string | undefined;
    if (isSymbol(tokens[at], '=')) {
      let stop = at + 1;
      while (stop < tokens.length && !(isSymbol(tokens[stop], ',') && depthAt(tokens, stop) === 0)) stop++;
      init = `SELECT ${render(tokens.slice(at + 1, stop))}`;
      at = stop;
    }
    variables.push(init === undefined ? { name: variable.text, type } : { name: variable.text, type, init });
    if (isSymbol(tokens[at], ',')) at++;
  }
  return { kind: 'declare', variables };
}

function exec(tokens: readonly Token[]): Statement {
  let at = 1;
  let result: string | undefined;
  if (tokens[at]?.kind === 'variable' && isSymbol(tokens[at + 1], '=')) {
    result = tokens[at]?.text;
    at += 2;
  }
  const procedure = (tokens[at]?.text ?? '').toLowerCase();
  const args: { name?: string; value: Token }[] = [];
  for (at++; at < tokens.length; at++) {
    const token = tokens[at];
    if (!token || isSymbol(token, ',') || isWord(token, 'OUTPUT', 'OUT')) continue;
    if (token.kind === 'variable' && isSymbol(tokens[at + 1], '=')) {
      const value = tokens[at + 2];
      if (!value) throw sqlErrors.syntax(token.text);
      args.push({ name: token.text, value });
      at += 2;
    } else if (isSymbol(token, '-') && tokens[at + 1]?.kind === 'number') {
      args.push({ value: { ...token, kind: 'number', text: `-${tokens[at + 1]?.text ?? ''}` } });
      at++;
    } else {
      args.push({ value: token });
    }
  }
  return result === undefined ? { kind: 'exec', procedure, args } : { kind: 'exec', procedure, args, result };
}

function waitfor(tokens: readonly Token[]): Statement {
  const delay = tokens[2];
  if (!isWord(tokens[1], 'DELAY') || !delay?.kind.endsWith('string')) throw sqlErrors.unsupported('WAITFOR');
  const match = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(delay.text.trim());
  if (!match) throw sqlErrors.syntax(delay.text);
  const ms =
    ((Number(match[1]) * 60 + Number(match[2])) * 60 + Number(match[3] ?? 0)) * 1000 +
    Number((match[4] ?? '').padEnd(3, '0'));
  return { kind: 'waitfor', ms };
}

function ifStatement(tokens: readonly Token[]): Statement {
  // IF <condition> <statement> [ELSE <statement>]
  const rest = tokens.slice(1);
  const body = rest.findIndex((token, index) => depthAt(rest, index) === 0 && startsStatement(token));
  if (body <= 0) throw sqlErrors.syntax('IF');
  const branches = rest.slice(body);
  let cases = 0;
  const elseAt = branches.findIndex((token, index) => {
    if (isWord(token, 'CASE')) cases++;
    else if (isWord(token, 'END')) cases--;
    return cases === 0 && isWord(token, 'ELSE') && depthAt(branches, index) === 0;
  });
  const then = translate(elseAt < 0 ? branches : branches.slice(0, elseAt));
  const condition = `SELECT CASE WHEN ${render(rest.slice(0, body))} THEN 1 ELSE 0 END`;
  if (elseAt < 0) return { kind: 'if', condition, then };
  return { kind: 'if', condition, then, otherwise: translate(branches.slice(elseAt + 1)) };
}
