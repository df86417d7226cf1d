// The translated statements the executor runs, as the translator (translate.ts, queries.ts,
// ddl.ts) produces them.
import type { Ddl } from './ddl.ts';
import type { Token } from './lexer.ts';
import type { SqlType } from './types.ts';

/** What the engine can learn about a result column before running the query. */
export interface ColumnHint {
  readonly type?: SqlType;
  /** The column is a variable: its declared (or parameter) type. */
  readonly variable?: string;
  /** SUM/MIN/MAX/AVG of a column: typed from that column. */
  readonly aggregate?: { readonly fn: string; readonly column: string };
}

export type Verb = 'select' | 'insert' | 'update' | 'delete' | 'ddl';

export type Statement =
  | {
      readonly kind: 'query';
      readonly sql: string;
      readonly verb: Verb;
      readonly returnsRows: boolean;
      /** Per result column when the select list has no `*`. */
      readonly hints?: readonly (ColumnHint | undefined)[];
      readonly ddl?: Ddl;
      /** The table an INSERT writes to (SCOPE_IDENTITY() follows its IDENTITY column). */
      readonly table?: string;
    }
  | {
      readonly kind: 'transaction';
      readonly action: 'begin' | 'commit' | 'rollback' | 'save';
      readonly name: string;
    }
  | { readonly kind: 'waitfor'; readonly ms: number }
  | {
      readonly kind: 'exec';
      readonly procedure: string;
      readonly args: readonly { readonly name?: string; readonly value: Token }[];
      readonly result?: string;
    }
  | { readonly kind: 'set'; readonly option: string; readonly value: string }
  | {
      readonly kind: 'declare';
      readonly variables: readonly {
        readonly name: string;
        readonly type: SqlType;
        readonly init?: string;
      }[];
    }
  | { readonly kind: 'assign'; readonly targets: readonly string[]; readonly sql: string }
  | {
      readonly kind: 'if';
      readonly condition: string;
      readonly then: Statement;
      readonly otherwise?: Statement;
    }
  | { readonly kind: 'use'; readonly database: string }
  | { readonly kind: 'print'; readonly sql: string };
