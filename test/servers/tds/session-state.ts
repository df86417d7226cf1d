// What one session keeps between statements (transaction, options, variables) and what a
// statement runs with; shared by the session, the executor, transactions and procedures.
import type { Database, Engine } from './engine.ts';
import type { ResponseWriter } from './packets.ts';
import type { SqlType, StoredValue } from './types.ts';

/** The client sent ATTENTION: stop, and let the session acknowledge it. */
export class Cancelled extends Error {}

export interface SessionState {
  readonly spid: number;
  readonly engine: Engine;
  database: Database;
  readonly user: string;
  nocount: boolean;
  /** SET LOCK_TIMEOUT, in ms; -1 waits for ever. */
  lockTimeoutMs: number;
  xactAbort: boolean;
  isolation: string;
  transaction: Transaction | undefined;
  scopeIdentity: StoredValue;
  rowcount: number;
}

export interface Variable {
  readonly type: SqlType;
  value: StoredValue;
}

export interface RunContext {
  readonly state: SessionState;
  readonly writer: ResponseWriter;
  readonly signal: AbortSignal;
  /** By lower-cased name with '@'. */
  readonly variables: Map<string, Variable>;
  readonly doneKind: 'done' | 'doneInProc';
}

export interface Transaction {
  /** @@TRANCOUNT. */
  depth: number;
  readonly name: string;
  readonly descriptor: Buffer;
  /** SQLite's BEGIN has run (and the session holds `database`'s lock). */
  started: boolean;
  database: Database | undefined;
  readonly savepoints: string[];
}
