// SQL Server data types on the wire: TYPE_INFO of result columns and output parameters, and the
// values of ROW and RETURNVALUE tokens, from what SQLite stores (see types.ts).
import type { ByteWriter } from './bytes.ts';
import { sqlErrors, TdsError } from './errors.ts';
import { formatSqlType, type SqlType, type StoredValue } from './types.ts';
import { guidBytes, magnitudeAt, parseTemporal, ticksFromMidnight } from './values.ts';

/** Latin1_General_100_CI_AS_SC_UTF8: varchar travels as UTF-8 (tedious reads the UTF8 flag). */
export const COLLATION = Buffer.from([0x09, 0x04, 0xd0, 0x14, 0x00]);

const INT_BYTES = { tinyint: 1, smallint: 2, int: 4, bigint: 8 } as const;
const INT_RANGE = {
  tinyint: [0n, 255n],
  smallint: [-32768n, 32767n],
  int: [-2147483648n, 2147483647n],
  bigint: [-9223372036854775808n, 9223372036854775807n],
} as const;
export const PLP_NULL = 0xffffffffffffffffn;
export const PLP_UNKNOWN_LENGTH = 0xfffffffffffffffen;
const PLP_CHUNK = 32 * 1024;

export function decimalBytes(precision: number): number {
  return precision <= 9 ? 4 : precision <= 19 ? 8 : precision <= 28 ? 12 : 16;
}

export function timeBytes(scale: number): number {
  return scale <= 2 ? 3 : scale <= 4 ? 4 : 5;
}

/** TYPE_INFO of a column (COLMETADATA) or an output parameter (RETURNVALUE). */
export function writeTypeInfo(w: ByteWriter, type: SqlType): void {
  switch (type.name) {
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint':
      w.u8(0x26).u8(INT_BYTES[type.name]);
      return;
    case 'bit':
      w.u8(0x68).u8(1);
      return;
    case 'float':
      w.u8(0x6d).u8(8);
      return;
    case 'real':
      w.u8(0x6d).u8(4);
      return;
    case 'decimal':
    case 'numeric':
      w.u8(type.name === 'decimal' ? 0x6a : 0x6c)
        .u8(decimalBytes(type.precision) + 1)
        .u8(type.precision)
        .u8(type.scale);
      return;
    case 'nvarchar':
      w.u8(0xe7)
        .u16(type.length === 'max' ? 0xffff : type.length * 2)
        .bytes(COLLATION);
      return;
    case 'varchar':
      w.u8(0xa7)
        .u16(type.length === 'max' ? 0xffff : type.length)
        .bytes(COLLATION);
      return;
    case 'varbinary':
      w.u8(0xa5).u16(type.length === 'max' ? 0xffff : type.length);
      return;
    case 'date':
      w.u8(0x28);
      return;
    case 'time':
      w.u8(0x29).u8(type.scale);
      return;
    case 'datetime2':
      w.u8(0x2a).u8(type.scale);
      return;
    case 'datetimeoffset':
      w.u8(0x2b).u8(type.scale);
      return;
    case 'datetime':
      w.u8(0x6f).u8(8);
      return;
    case 'uniqueidentifier':
      w.u8(0x24).u8(16);
      return;
  }
}

function toBigInt(value: Exclude<StoredValue, null>, type: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw sqlErrors.overflow(type);
    return BigInt(Math.trunc(value));
  }
  const text = typeof value === 'string' ? value.trim() : Buffer.from(value).toString('utf8');
  if (/^[+-]?\d+$/.test(text)) return BigInt(text);
  if (/^[+-]?\d*\.\d+$/.test(text)) return BigInt(text.slice(0, text.indexOf('.')).replace(/^[+-]?$/, '0'));
  throw sqlErrors.conversion(text, type);
}

function toText(value: Exclude<StoredValue, null>): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return String(value);
}

function writePlp(w: ByteWriter, data: Buffer): void {
  w.u64(BigInt(data.length));
  for (let at = 0; at < data.length; at += PLP_CHUNK) {
    const chunk = data.subarray(at, at + PLP_CHUNK);
    w.u32(chunk.length).bytes(chunk);
  }
  w.u32(0);
}

function writeVariable(w: ByteWriter, max: boolean, data: Buffer | null, type: SqlType): void {
  if (max) {
    if (data === null) w.u64(PLP_NULL);
    else writePlp(w, data);
    return;
  }
  if (data === null) {
    w.u16(0xffff);
    return;
  }
  if (data.length >= 0xffff) throw sqlErrors.overflow(formatSqlType(type));
  w.u16(data.length).bytes(data);
}

/** One value of a ROW token or a RETURNVALUE, from what SQLite gave. */
export function writeValue(w: ByteWriter, type: SqlType, value: StoredValue): void {
  switch (type.name) {
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint': {
      if (value === null) {
        w.u8(0);
        return;
      }
      const number = toBigInt(value, type.name);
      const [low, high] = INT_RANGE[type.name];
      if (number < low || number > high) throw sqlErrors.overflow(type.name);
      const size = INT_BYTES[type.name];
      w.u8(size);
      if (size === 1) w.u8(Number(number));
      else if (size === 2) w.i16(Number(number));
      else if (size === 4) w.i32(Number(number));
      else w.i64(number);
      return;
    }
    case 'bit':
      if (value === null) w.u8(0);
      else
        w.u8(1).u8(
          toBigInt(typeof value === 'string' && /^true$/i.test(value) ? 1 : value, 'bit') === 0n ? 0 : 1,
        );
      return;
    case 'float':
    case 'real': {
      if (value === null) {
        w.u8(0);
        return;
      }
      const number = Number(typeof value === 'object' ? toText(value) : value);
      if (Number.isNaN(number)) throw sqlErrors.conversion(toText(value), type.name);
      if (type.name === 'float') w.u8(8).f64(number);
      else w.u8(4).f32(number);
      return;
    }
    case 'decimal':
    case 'numeric': {
      if (value === null) {
        w.u8(0);
        return;
      }
      const source = value instanceof Uint8Array ? toText(value) : value;
      let scaled: { negative: boolean; magnitude: bigint };
      try {
        scaled = magnitudeAt(source, type.scale);
      } catch {
        throw sqlErrors.conversion(String(source), formatSqlType(type));
      }
      const { negative, magnitude } = scaled;
      if (magnitude >= 10n ** BigInt(type.precision)) throw sqlErrors.overflow(formatSqlType(type));
      const size = decimalBytes(type.precision);
      w.u8(size + 1).u8(negative ? 0 : 1);
      let rest = magnitude;
      for (let i = 0; i < size; i++, rest >>= 8n) w.u8(Number(rest & 0xffn));
      return;
    }
    case 'nvarchar':
      writeVariable(
        w,
        type.length === 'max',
        value === null ? null : Buffer.from(toText(value), 'utf16le'),
        type,
      );
      return;
    case 'varchar':
      writeVariable(
        w,
        type.length === 'max',
        value === null ? null : Buffer.from(toText(value), 'utf8'),
        type,
      );
      return;
    case 'varbinary':
      writeVariable(
        w,
        type.length === 'max',
        value === null
          ? null
          : value instanceof Uint8Array
            ? Buffer.from(value)
            : Buffer.from(toText(value), 'utf8'),
        type,
      );
      return;
    case 'uniqueidentifier':
      if (value === null) w.u8(0);
      else {
        const text = toText(value);
        let bytes: Buffer;
        try {
          bytes = guidBytes(text);
        } catch {
          throw sqlErrors.conversion(text, 'uniqueidentifier');
        }
        w.u8(16).bytes(bytes);
      }
      return;
    default:
      writeTemporal(w, type, value);
  }
}

function writeTemporal(w: ByteWriter, type: SqlType, value: StoredValue): void {
  if (value === null) {
    w.u8(0);
    return;
  }
  const text = value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : String(value);
  const parts = parseTemporal(text, type.name === 'time');
  if (!parts) throw sqlErrors.conversion(text, formatSqlType(type));
  switch (type.name) {
    case 'date':
      w.u8(3).u24(parts.days);
      return;
    case 'datetime': {
      // Days since 1900-01-01 and 1/300 s since midnight, rounded as SQL Server rounds.
      let days = parts.days - DAYS_1900;
      let ticks = Math.round(parts.ticks / 10_000 / (10 / 3));
      if (ticks >= 25_920_000) {
        days += 1;
        ticks = 0;
      }
      w.u8(8).i32(days).u32(ticks);
      return;
    }
    case 'time':
    case 'datetime2':
    case 'datetimeoffset': {
      let days = parts.days;
      let ticks = parts.ticks;
      if (type.name === 'datetimeoffset') {
        // On the wire the date and time are UTC, followed by the offset.
        ({ days, ticks } = ticksFromMidnight(days, ticks, -(parts.offsetMinutes ?? 0)));
      }
      const scaled = Math.round(ticks / 10 ** (7 - type.scale));
      const size = timeBytes(type.scale);
      const extra = type.name === 'time' ? 0 : type.name === 'datetime2' ? 3 : 5;
      w.u8(size + extra);
      if (size === 3) w.u24(scaled);
      else if (size === 4) w.u32(scaled);
      else w.u40(scaled);
      if (type.name === 'time') return;
      w.u24(days);
      if (type.name === 'datetimeoffset') w.i16(parts.offsetMinutes ?? 0);
      return;
    }
    default:
      throw new TdsError(50000, `no writer for ${type.name}`);
  }
}

/** Days from 0001-01-01 to 1900-01-01 (the epoch of datetime). */
const DAYS_1900 = 693_595;
