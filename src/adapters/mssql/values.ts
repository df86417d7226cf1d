import mssql from 'mssql';
import type { SqlRow } from '../../ports/sql-database.ts';
import { SqlJson, type SqlValue } from '../../ports/sql.ts';

type Request = InstanceType<typeof mssql.Request>;

const int32 = 2 ** 31;

/** Binds `@p1`… with the SQL Server type of each value. */
export function bindParameters(request: Request, values: readonly SqlValue[]): void {
  values.forEach((value, index) => {
    const name = `p${index + 1}`;
    if (value === null) request.input(name, mssql.NVarChar(1), null);
    else if (typeof value === 'string') request.input(name, mssql.NVarChar(mssql.MAX), value);
    else if (typeof value === 'number') {
      if (Number.isInteger(value) && value >= -int32 && value < int32) request.input(name, mssql.Int, value);
      else if (Number.isSafeInteger(value)) request.input(name, mssql.BigInt, value);
      else request.input(name, mssql.Float, value);
    } else if (typeof value === 'bigint') request.input(name, mssql.BigInt, value.toString());
    else if (typeof value === 'boolean') request.input(name, mssql.Bit, value);
    else if (value instanceof Date) request.input(name, mssql.DateTime2(3), value);
    else if (value instanceof SqlJson)
      request.input(name, mssql.NVarChar(mssql.MAX), JSON.stringify(value.value));
    else
      request.input(
        name,
        mssql.VarBinary(mssql.MAX),
        Buffer.from(value.buffer, value.byteOffset, value.byteLength),
      );
  });
}

type ColumnTypes = Record<string, { type?: unknown }>;

/**
 * Rows as berth reads every database: bigint as `bigint` (tedious gives its digits), decimal as a
 * string (tedious gives a number, exact to 15 significant digits).
 */
export function rowConverter(columns: ColumnTypes | undefined): (row: SqlRow) => SqlRow {
  const bigints: string[] = [];
  const decimals: string[] = [];
  for (const [name, column] of Object.entries(columns ?? {})) {
    if (column.type === mssql.BigInt) bigints.push(name);
    else if (column.type === mssql.Decimal || column.type === mssql.Numeric) decimals.push(name);
  }
  if (bigints.length === 0 && decimals.length === 0) return (row) => row;
  return (row) => {
    for (const name of bigints)
      if (row[name] !== null && row[name] !== undefined) row[name] = BigInt(row[name] as string);
    for (const name of decimals) if (typeof row[name] === 'number') row[name] = decimalText(row[name]);
    return row;
  };
}

// A number's own digits, never an exponent: 1e21 → "1000000000000000000000".
function decimalText(value: number): string {
  const text = String(value);
  return /e/i.test(text)
    ? value.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 })
    : text;
}
