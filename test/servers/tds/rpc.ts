// Request messages after login: SQL batch text, RPC calls (sp_executesql and named procedures,
// with typed parameters) and transaction-manager requests, each after their ALL_HEADERS.
import { ByteReader } from './bytes.ts';
import { sqlErrors } from './errors.ts';
import type { SqlType, StoredValue } from './types.ts';
import { PLP_NULL } from './wire.ts';
import { decimalFromMagnitude, guidText, temporalText, ticksFromMidnight } from './values.ts';

/** ALL_HEADERS: the transaction descriptor the client believes it is in. */
export function readAllHeaders(r: ByteReader): Buffer | undefined {
  const start = r.position;
  const total = r.u32();
  let descriptor: Buffer | undefined;
  while (r.position < start + total) {
    const headerStart = r.position;
    const length = r.u32();
    const type = r.u16();
    if (type === 2) descriptor = Buffer.from(r.bytes(8));
    r.position = headerStart + length;
  }
  return descriptor;
}

export function parseSqlBatch(data: Buffer): string {
  const r = new ByteReader(data);
  // ALL_HEADERS starts with its total length, which is never a UCS-2 pair of printable text.
  if (data.length >= 4 && data.readUInt32LE(0) <= data.length && data.readUInt32LE(0) >= 4) readAllHeaders(r);
  return data.subarray(r.position).toString('utf16le');
}

export interface RpcParameter {
  /** With its '@', or '' for a positional one. */
  readonly name: string;
  readonly output: boolean;
  readonly type: SqlType;
  readonly value: StoredValue;
}

export interface RpcCall {
  /** The procedure name, or `#<id>` for the special ones (#10 is sp_executesql). */
  readonly procedure: string;
  readonly parameters: readonly RpcParameter[];
}

export function parseRpc(data: Buffer): RpcCall {
  const r = new ByteReader(data);
  readAllHeaders(r);
  const nameLength = r.u16();
  const procedure = nameLength === 0xffff ? `#${r.u16()}` : r.ucs2(nameLength);
  r.u16(); // option flags
  const parameters: RpcParameter[] = [];
  while (r.remaining > 0) {
    const next = r.data.readUInt8(r.position);
    if (next === 0x80 || next === 0xff) break; // another call in the same message: not used by tedious
    const name = r.bVarchar();
    const status = r.u8();
    const { type, read } = readTypeInfo(r);
    parameters.push({ name, output: (status & 0x01) !== 0, type, value: read() });
  }
  return { procedure, parameters };
}

export type TransactionRequest =
  | { readonly kind: 'begin'; readonly isolation: number; readonly name: string }
  | { readonly kind: 'commit' | 'rollback'; readonly name: string }
  | { readonly kind: 'save'; readonly name: string }
  | { readonly kind: 'unsupported'; readonly type: number };

export function parseTransactionManager(data: Buffer): TransactionRequest {
  const r = new ByteReader(data);
  readAllHeaders(r);
  const type = r.u16();
  const name = (): string => (r.remaining > 0 ? r.bytes(r.u8()).toString('utf16le') : '');
  switch (type) {
    case 5: {
      const isolation = r.u8();
      return { kind: 'begin', isolation, name: name() };
    }
    case 7:
      return { kind: 'commit', name: name() };
    case 8:
      return { kind: 'rollback', name: name() };
    case 9:
      return { kind: 'save', name: name() };
    default:
      return { kind: 'unsupported', type };
  }
}

// ---------------------------------------------------------------------------------------------
// Parameter values: TYPE_INFO, then the value, as tedious's data types write them
// ---------------------------------------------------------------------------------------------

interface TypeInfo {
  readonly type: SqlType;
  readonly read: () => StoredValue;
}

const INT_NAMES = { 1: 'tinyint', 2: 'smallint', 4: 'int', 8: 'bigint' } as const;

function readPlp(r: ByteReader): Buffer | null {
  const total = r.u64();
  if (total === PLP_NULL) return null;
  const chunks: Buffer[] = [];
  for (let length = r.u32(); length !== 0; length = r.u32()) chunks.push(r.bytes(length));
  return Buffer.concat(chunks);
}

function readInt(r: ByteReader, size: number): StoredValue {
  switch (size) {
    case 0:
      return null;
    case 1:
      return r.u8();
    case 2:
      return r.i16();
    case 4:
      return r.i32();
    case 8:
      return r.i64();
    default:
      throw sqlErrors.internal(`integer parameter of ${size} bytes`);
  }
}

/** Reads a time of `bytes` bytes at `scale` into 100 ns units. */
function readTime(r: ByteReader, bytes: number, scale: number): number {
  const value = bytes === 3 ? r.u24() : bytes === 4 ? r.u32() : r.u40();
  return value * 10 ** (7 - scale);
}

function readTypeInfo(r: ByteReader): TypeInfo {
  const id = r.u8();
  switch (id) {
    case 0x26: // INTN
    case 0x30: // INT1
    case 0x34: // INT2
    case 0x38: // INT4
    case 0x7f: {
      // INT8
      const fixed = { 0x30: 1, 0x34: 2, 0x38: 4, 0x7f: 8 }[id as 0x30 | 0x34 | 0x38 | 0x7f];
      const size = fixed ?? r.u8();
      const name = INT_NAMES[size as 1 | 2 | 4 | 8];
      if (!name) throw sqlErrors.internal(`integer parameter of ${size} bytes`);
      return { type: { name }, read: () => readInt(r, fixed ?? r.u8()) };
    }
    case 0x68: // BITN
    case 0x32: {
      // BIT
      if (id === 0x68) r.u8();
      return {
        type: { name: 'bit' },
        read: () => (id === 0x32 || r.u8() !== 0 ? (r.u8() === 0 ? 0 : 1) : null),
      };
    }
    case 0x6d: // FLTN
    case 0x3b: // FLT4
    case 0x3e: {
      // FLT8
      const size = id === 0x6d ? r.u8() : id === 0x3b ? 4 : 8;
      return {
        type: { name: size === 4 ? 'real' : 'float' },
        read: () => {
          const length = id === 0x6d ? r.u8() : size;
          return length === 0 ? null : length === 4 ? r.f32() : r.f64();
        },
      };
    }
    case 0x6a: // DECIMALN
    case 0x6c: {
      // NUMERICN
      r.u8();
      const precision = r.u8();
      const scale = r.u8();
      return {
        type: { name: id === 0x6a ? 'decimal' : 'numeric', precision, scale },
        read: () => {
          const length = r.u8();
          if (length === 0) return null;
          const negative = r.u8() === 0;
          const bytes = r.bytes(length - 1);
          let magnitude = 0n;
          for (let i = bytes.length - 1; i >= 0; i--) magnitude = (magnitude << 8n) | BigInt(bytes[i] ?? 0);
          return decimalFromMagnitude(negative, magnitude, scale);
        },
      };
    }
    case 0x6e: {
      // MONEYN: 1/10000 units
      r.u8();
      return {
        type: { name: 'decimal', precision: 19, scale: 4 },
        read: () => {
          const length = r.u8();
          if (length === 0) return null;
          const units = length === 4 ? BigInt(r.i32()) : (BigInt(r.i32()) << 32n) | BigInt(r.u32());
          return decimalFromMagnitude(units < 0n, units < 0n ? -units : units, 4);
        },
      };
    }
    case 0xe7: // NVARCHAR
    case 0xef: // NCHAR
    case 0xa7: // BIGVARCHAR
    case 0xaf: // BIGCHAR
    case 0xa5: // BIGVARBINARY
    case 0xad: {
      // BIGBINARY
      const maxLength = r.u16();
      const unicode = id === 0xe7 || id === 0xef;
      const binary = id === 0xa5 || id === 0xad;
      const utf8 = binary ? true : (r.bytes(5)[3] ?? 0) & 0x04; // collation flag UTF8 (bit 6 overall)
      const max = maxLength === 0xffff;
      const name = unicode ? 'nvarchar' : binary ? 'varbinary' : 'varchar';
      const length = max ? 'max' : unicode ? maxLength / 2 : maxLength;
      return {
        type: { name, length },
        read: () => {
          let bytes: Buffer | null;
          if (max) bytes = readPlp(r);
          else {
            const size = r.u16();
            bytes = size === 0xffff ? null : r.bytes(size);
          }
          if (bytes === null) return null;
          if (binary) return Buffer.from(bytes);
          if (unicode) return bytes.toString('utf16le');
          return utf8 ? bytes.toString('utf8') : new TextDecoder('windows-1252').decode(bytes);
        },
      };
    }
    case 0x28: // DATEN
      return {
        type: { name: 'date' },
        read: () => (r.u8() === 0 ? null : temporalText('date', { days: r.u24(), ticks: 0 })),
      };
    case 0x29: // TIMEN
    case 0x2a: // DATETIME2N
    case 0x2b: {
      // DATETIMEOFFSETN
      const scale = r.u8();
      const name = id === 0x29 ? 'time' : id === 0x2a ? 'datetime2' : 'datetimeoffset';
      return {
        type: { name, scale },
        read: () => {
          const length = r.u8();
          if (length === 0) return null;
          const extra = name === 'time' ? 0 : name === 'datetime2' ? 3 : 5;
          const ticks = readTime(r, length - extra, scale);
          if (name === 'time') return temporalText('time', { days: 0, ticks });
          const days = r.u24();
          if (name === 'datetime2') return temporalText('datetime2', { days, ticks });
          const offsetMinutes = r.i16();
          // On the wire the date and time are UTC; stored as local time with its offset.
          return temporalText('datetimeoffset', {
            ...ticksFromMidnight(days, ticks, offsetMinutes),
            offsetMinutes,
          });
        },
      };
    }
    case 0x6f: {
      // DATETIMN: days since 1900 and 1/300 s (8 bytes), or days and minutes (4 bytes)
      r.u8();
      return {
        type: { name: 'datetime' },
        read: () => {
          const length = r.u8();
          if (length === 0) return null;
          const days = (length === 4 ? r.u16() : r.i32()) + 693_595;
          const ticks = length === 4 ? r.u16() * 600_000_000 : Math.round((r.u32() * 10) / 3) * 10_000;
          return temporalText('datetime', { days, ticks });
        },
      };
    }
    case 0x24: // GUIDN
      r.u8();
      return {
        type: { name: 'uniqueidentifier' },
        read: () => (r.u8() === 0 ? null : guidText(r.bytes(16))),
      };
    default:
      throw sqlErrors.unsupported(`parameter type 0x${id.toString(16)}`);
  }
}
