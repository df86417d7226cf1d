// Runs translated statements for one session: waits for its database's lock (asynchronously, up
// to LOCK_TIMEOUT), runs SQLite, streams rows with the socket's backpressure, and keeps the
// transaction, variables and session options. Token order follows SQL Server: rows, then one
// DONE (DONEINPROC inside an RPC) per statement with DONE_COUNT unless NOCOUNT, DONE_MORE unless last.
import type { StatementSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from './engine.ts';
import { resolveColumns } from './engine.ts';
import { fromSqliteError, sqlErrors, TdsError } from './errors.ts';
import type { Token } from './lexer.ts';
import { runProcedure } from './procedures.ts';
import { systemParameter } from './render.ts';
import { Cancelled, type RunContext, type SessionState } from './session-state.ts';
import type { Statement } from './statements.ts';
import * as tokens from './tokens.ts';
import { Command, DoneStatus } from './tokens.ts';
import { beginTransaction, commitTransaction, rollbackTransaction, saveTransaction } from './transactions.ts';
import type { StoredValue } from './types.ts';

const COMMANDS = {
  select: Command.SELECT,
  insert: Command.INSERT,
  update: Command.UPDATE,
  delete: Command.DELETE,
};

/** Runs a batch; false when a statement failed (its ERROR and a final DONE are written). */
export async function runBatch(statements: readonly Statement[], ctx: RunContext): Promise<boolean> {
  for (let i = 0; i < statements.length; i++) {
    const statement = statements[i];
    if (!statement) continue;
    const final = ctx.doneKind === 'done' && i === statements.length - 1;
    try {
      await runStatement(statement, ctx, final);
    } catch (error) {
      if (error instanceof Cancelled || ctx.signal.aborted) throw new Cancelled();
      await fail(error, ctx);
      return false;
    }
  }
  return true;
}

/** Writes the error; XACT_ABORT ON rolls the transaction back, as SQL Server does. */
export async function fail(error: unknown, ctx: RunContext): Promise<void> {
  const failure = error instanceof TdsError ? error : sqlErrors.internal(String(error));
  ctx.writer.write(tokens.error(failure));
  if (ctx.state.xactAbort && ctx.state.transaction) rollbackTransaction(ctx.state, ctx.writer, '');
  const status = DoneStatus.ERROR | (ctx.doneKind === 'done' ? 0 : DoneStatus.MORE);
  ctx.writer.write(tokens.done(ctx.doneKind, status, Command.NONE, 0));
  await ctx.writer.ready();
}

function writeDone(ctx: RunContext, final: boolean, command: number, count?: number): void {
  const status =
    (final ? 0 : DoneStatus.MORE) | (count !== undefined && !ctx.state.nocount ? DoneStatus.COUNT : 0);
  ctx.writer.write(tokens.done(ctx.doneKind, status, command, count ?? 0));
}

async function runStatement(statement: Statement, ctx: RunContext, final: boolean): Promise<void> {
  const { state } = ctx;
  switch (statement.kind) {
    case 'query':
      await runQuery(statement, ctx, final);
      return;
    case 'transaction': {
      if (statement.action === 'begin') beginTransaction(state, ctx.writer, statement.name);
      else if (statement.action === 'commit') commitTransaction(state, ctx.writer);
      else if (statement.action === 'rollback') rollbackTransaction(state, ctx.writer, statement.name);
      else await saveTransaction(state, statement.name, () => lockDatabase(ctx));
      writeDone(ctx, final, statement.action === 'begin' ? Command.BEGIN_TRAN : Command.NONE);
      return;
    }
    case 'set':
      applySet(state, statement.option, statement.value);
      writeDone(ctx, final, Command.NONE);
      return;
    case 'declare':
      for (const variable of statement.variables) {
        const value = variable.init === undefined ? null : ((await evaluate(variable.init, ctx))[0] ?? null);
        ctx.variables.set(variable.name, { type: variable.type, value });
      }
      writeDone(ctx, final, Command.NONE);
      return;
    case 'assign': {
      const row = await evaluate(statement.sql, ctx, true);
      statement.targets.forEach((name, index) => {
        const variable = ctx.variables.get(name);
        if (!variable) throw sqlErrors.undeclaredVariable(name);
        if (row) variable.value = row[index] ?? null;
      });
      writeDone(ctx, final, Command.SELECT);
      return;
    }
    case 'if': {
      const [truth] = await evaluate(statement.condition, ctx);
      const branch = truth === 1n || truth === 1 ? statement.then : statement.otherwise;
      if (branch) await runStatement(branch, ctx, final);
      else writeDone(ctx, final, Command.NONE);
      return;
    }
    case 'waitfor':
      try {
        await sleep(statement.ms, undefined, { signal: ctx.signal });
      } catch {
        throw new Cancelled();
      }
      writeDone(ctx, final, Command.NONE);
      return;
    case 'exec': {
      const named = statement.args.map((arg) => ({ name: arg.name, value: argument(arg.value, ctx) }));
      const status = await runProcedure(statement.procedure, named, ctx);
      if (statement.result) {
        const target = ctx.variables.get(statement.result);
        if (!target) throw sqlErrors.undeclaredVariable(statement.result);
        target.value = status;
      }
      ctx.writer.write(tokens.returnStatus(status));
      ctx.writer.write(tokens.done('doneProc', DoneStatus.MORE, Command.NONE, 0));
      writeDone(ctx, final, Command.NONE);
      return;
    }
    case 'use': {
      const database = state.engine.open(statement.database);
      if (!database)
        throw new TdsError(
          911,
          `Database '${statement.database}' does not exist. Make sure that the name is entered correctly.`,
          16,
        );
      if (database !== state.database) {
        ctx.writer.write(tokens.envChangeText(tokens.EnvChange.DATABASE, database.name, state.database.name));
        ctx.writer.write(tokens.info(5701, `Changed database context to '${database.name}'.`));
        state.database = database;
      }
      writeDone(ctx, final, Command.NONE);
      return;
    }
    case 'print': {
      const [value] = await evaluate(`SELECT ${statement.sql}`, ctx);
      ctx.writer.write(tokens.info(0, value === null || value === undefined ? '' : String(value)));
      writeDone(ctx, final, Command.NONE);
      return;
    }
  }
}

function argument(token: Token, ctx: RunContext): StoredValue {
  if (token.kind === 'variable') {
    const variable = ctx.variables.get(token.text);
    if (!variable) throw sqlErrors.undeclaredVariable(token.text);
    return variable.value;
  }
  if (token.kind === 'number') return Number(token.text);
  if (token.kind === 'word' && token.upper === 'NULL') return null;
  return token.text;
}

function applySet(state: SessionState, option: string, value: string): void {
  const on = /^on$/i.test(value.trim());
  switch (option) {
    case 'nocount':
      state.nocount = on;
      return;
    case 'xact_abort':
      state.xactAbort = on;
      return;
    case 'lock_timeout': {
      const ms = Number(value.replace(/\s+/g, ''));
      if (!Number.isInteger(ms)) throw sqlErrors.syntax(value);
      state.lockTimeoutMs = ms < 0 ? -1 : ms;
      return;
    }
    case 'isolation':
      state.isolation = value;
      return;
    default:
      return; // ANSI options, DATEFORMAT, LANGUAGE, TEXTSIZE …: accepted, not emulated
  }
}

/** Waits for the session's database lock; held until the statement (or transaction) ends. */
export async function lockDatabase(ctx: RunContext): Promise<Database> {
  const { state } = ctx;
  const database = state.database;
  if (state.engine.locks.holds(database.lock, state)) return database;
  const result = await state.engine.locks.acquire(
    database.lock,
    state,
    'exclusive',
    state.lockTimeoutMs,
    ctx.signal,
  );
  if (result === 'cancelled') throw new Cancelled();
  if (result === 'timeout') throw sqlErrors.lockTimeout();
  return database;
}

/** Gives the database lock back unless a transaction keeps it. */
function unlockDatabase(ctx: RunContext): void {
  if (!ctx.state.transaction?.started)
    ctx.state.engine.locks.release(ctx.state.database.lock, ctx.state, true);
}

function parameters(ctx: RunContext): Record<string, StoredValue> {
  const { state } = ctx;
  const values: Record<string, StoredValue> = {
    [systemParameter('@@VERSION')]:
      `Microsoft SQL Server 2022 (RTM) - ${tokens.PRODUCT_VERSION.text} (X64) berth TDS test server on SQLite`,
    [systemParameter('@@SPID')]: state.spid,
    [systemParameter('@@TRANCOUNT')]: state.transaction?.depth ?? 0,
    [systemParameter('@@ROWCOUNT')]: state.rowcount,
    [systemParameter('@@IDENTITY')]: state.scopeIdentity,
    [systemParameter('@@LOCK_TIMEOUT')]: state.lockTimeoutMs,
    [systemParameter('@@SERVERNAME')]: tokens.SERVER_NAME,
    [systemParameter('@@ERROR')]: 0,
    [systemParameter('@@LANGUAGE')]: 'us_english',
    __scope_identity: state.scopeIdentity,
    __db_name: state.database.name,
  };
  for (const [name, variable] of ctx.variables) values[name.slice(1)] = variable.value;
  return values;
}

// Strings and quoted names of the rendered SQLite text, whose `@` is no variable.
const quotedRuns = /'(?:[^']|'')*'|"(?:[^"]|"")*"/g;

/** SQL Server's 137 for a variable neither declared nor passed, which SQLite would bind as NULL. */
function checkDeclared(sql: string, ctx: RunContext): void {
  if (!sql.includes('@')) return;
  for (const [name] of sql.replace(quotedRuns, "''").matchAll(/@[\w#$@]+/g)) {
    // `@__name`: the engine's own values (@@ROWCOUNT, SCOPE_IDENTITY(), …), bound by `parameters`.
    if (!name.startsWith('@__') && !ctx.variables.has(name)) throw sqlErrors.undeclaredVariable(name);
  }
}

/** Whether SQL reads or writes tables (else, like `SELECT 1`, it needs no lock, as in SQL Server). */
const touchesTables = (sql: string, verb = 'select'): boolean => verb !== 'select' || /\bFROM\b/i.test(sql);

/** Runs a scalar query (conditions, DECLARE … = …, SET @v = …); the last row when `last`. */
async function evaluate(sql: string, ctx: RunContext, last = false): Promise<StoredValue[]> {
  checkDeclared(sql, ctx);
  if (!touchesTables(sql)) return scalar(ctx.state.database.prepare(sql, false), ctx, last);
  const database = await lockDatabase(ctx);
  startTransaction(ctx, database);
  try {
    return scalar(database.prepare(sql), ctx, last);
  } catch (error) {
    throw fromSqliteError(error, { database: database.name, verb: 'select', uniqueIndexes: () => [] });
  } finally {
    unlockDatabase(ctx);
  }
}

function scalar(statement: StatementSync, ctx: RunContext, last: boolean): StoredValue[] {
  let row: StoredValue[] | undefined;
  try {
    for (const values of statement.iterate(parameters(ctx))) {
      row = values as unknown as StoredValue[];
      if (!last) break;
    }
  } catch (error) {
    throw fromSqliteError(error, {
      database: ctx.state.database.name,
      verb: 'select',
      uniqueIndexes: () => [],
    });
  }
  return row ?? [];
}

function startTransaction(ctx: RunContext, database: Database): void {
  const transaction = ctx.state.transaction;
  if (!transaction || transaction.started) return;
  database.sqlite.exec('BEGIN');
  transaction.started = true;
  transaction.database = database;
}

async function runQuery(
  statement: Extract<Statement, { kind: 'query' }>,
  ctx: RunContext,
  final: boolean,
): Promise<void> {
  const { state } = ctx;
  checkDeclared(statement.sql, ctx);
  const dirtyRead =
    !touchesTables(statement.sql, statement.verb) ||
    (statement.verb === 'select' && /UNCOMMITTED/.test(state.isolation) && !state.transaction?.started);
  const database = dirtyRead ? state.database : await lockDatabase(ctx);
  // A dirty read may run beside the lock holder, so never on a statement object it may be using.
  const prepare = (sql: string) => database.prepare(sql, !dirtyRead);
  const errorContext = {
    database: database.name,
    verb: statement.verb,
    uniqueIndexes: (table: string) => database.uniqueIndexes(table),
  };
  try {
    if (!dirtyRead) startTransaction(ctx, database);
    let count: number;
    if (statement.returnsRows) {
      count = await streamRows(database, prepare(statement.sql), statement, ctx);
    } else {
      // DROP TABLE a, b is several SQLite statements.
      count = 0;
      for (const sql of statement.ddl?.kind === 'dropTable' ? statement.sql.split('; ') : [statement.sql]) {
        const result = prepare(sql).run(parameters(ctx));
        count += Number(result.changes);
        if (statement.verb === 'insert' && statement.table && database.identity(statement.table)) {
          state.scopeIdentity = result.lastInsertRowid;
        }
      }
      if (statement.ddl) database.recordDdl(statement.ddl);
    }
    state.rowcount = count;
    const command = statement.verb === 'ddl' ? Command.NONE : COMMANDS[statement.verb];
    writeDone(ctx, final, command, statement.verb === 'ddl' ? undefined : count);
    await ctx.writer.ready();
  } catch (error) {
    if (error instanceof Cancelled) throw error;
    throw fromSqliteError(error, errorContext);
  } finally {
    if (!dirtyRead) unlockDatabase(ctx);
  }
}

/** COLMETADATA once the first row is known (it types expression columns), then every ROW. */
async function streamRows(
  database: Database,
  prepared: StatementSync,
  statement: Extract<Statement, { kind: 'query' }>,
  ctx: RunContext,
): Promise<number> {
  const iterator = prepared.iterate(parameters(ctx))[Symbol.iterator]();
  let next = iterator.next();
  const first = next.done ? undefined : (next.value as unknown as StoredValue[]);
  const columns = resolveColumns(
    database,
    prepared,
    first,
    statement.hints,
    (name) => ctx.variables.get(name)?.type,
  );
  ctx.writer.write(tokens.colMetadata(columns));
  let count = 0;
  try {
    while (!next.done) {
      if (ctx.signal.aborted) throw new Cancelled();
      ctx.writer.write(tokens.row(columns, next.value as unknown as StoredValue[]));
      count++;
      await ctx.writer.ready();
      next = iterator.next();
    }
  } finally {
    if (!next.done) iterator.return?.();
  }
  if (statement.verb === 'insert' && statement.table && count > 0 && database.identity(statement.table)) {
    const [rowid] = database.prepare('SELECT last_insert_rowid()').get() as unknown as [StoredValue];
    ctx.state.scopeIdentity = rowid;
  }
  return count;
}
