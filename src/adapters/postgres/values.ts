import type { IsolationLevel } from '../../ports/sql-database.ts';
import type { SqlValue } from '../../ports/sql.ts';
import { SqlJson } from '../../ports/sql.ts';

/** The parameters as `pg` and PGlite take them; the same array when none needs changing (the usual case). */
export function toPostgresValues(values: readonly SqlValue[]): unknown[] {
  for (const value of values) {
    if (typeof value === 'object' && value !== null && !(value instanceof Date) && !Buffer.isBuffer(value))
      return values.map(toPostgresValue);
    if (typeof value === 'bigint') return values.map(toPostgresValue);
  }
  return values as unknown[];
}

/** A parameter as `pg` and PGlite take it: JSON as text, bigint as its digits, bytes as a Buffer. */
export function toPostgresValue(value: SqlValue): unknown {
  if (value instanceof SqlJson) return JSON.stringify(value.value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return value;
}

const utcTimestamp = (text: string): Date => new Date(`${text.replace(' ', 'T')}Z`);

/**
 * Text parsers by type OID where berth's rule differs from the drivers' defaults: bigint as
 * `bigint` (exact), a timestamp without time zone read as UTC (not the process's zone), a date as
 * its `YYYY-MM-DD` text. numeric stays a string (exact) as both drivers give it.
 */
export const postgresParsers: Readonly<Record<number, (text: string) => unknown>> = {
  20: (text) => BigInt(text),
  1114: utcTimestamp,
  1082: (text) => text,
};

/** The statement that opens a transaction at each isolation level. */
export const beginStatement: Readonly<Record<IsolationLevel, string>> = {
  'read committed': 'BEGIN ISOLATION LEVEL READ COMMITTED',
  'repeatable read': 'BEGIN ISOLATION LEVEL REPEATABLE READ',
  serializable: 'BEGIN ISOLATION LEVEL SERIALIZABLE',
};
