// Token writers for server responses (MS-TDS 2.2.7): each returns the bytes of one token.
import { ByteWriter } from './bytes.ts';
import type { TdsError } from './errors.ts';
import type { SqlType, StoredValue } from './types.ts';
import { writeTypeInfo, writeValue } from './wire.ts';

const TOKEN = {
  RETURNSTATUS: 0x79,
  COLMETADATA: 0x81,
  ERROR: 0xaa,
  INFO: 0xab,
  RETURNVALUE: 0xac,
  LOGINACK: 0xad,
  ROW: 0xd1,
  NBCROW: 0xd2,
  ENVCHANGE: 0xe3,
  DONE: 0xfd,
  DONEPROC: 0xfe,
  DONEINPROC: 0xff,
} as const;

export const DoneStatus = {
  FINAL: 0x00,
  MORE: 0x01,
  ERROR: 0x02,
  IN_TRANSACTION: 0x04,
  COUNT: 0x10,
  ATTENTION: 0x20,
};
export type DoneKind = 'done' | 'doneProc' | 'doneInProc';

/** What DONE's CurCmd says ran; clients ignore it, SQL Server sets it. */
export const Command = { NONE: 0, SELECT: 0xc1, INSERT: 0xc3, DELETE: 0xc4, UPDATE: 0xc5, BEGIN_TRAN: 0xd4 };

export const SERVER_NAME = 'berth-tds';
export const PROGRAM_NAME = 'Microsoft SQL Server';
/** The product version announced (SQL Server 2022 RTM numbering). */
export const PRODUCT_VERSION = { major: 16, minor: 0, build: 1000, text: '16.0.1000.6' };

export function done(kind: DoneKind, status: number, command: number, rowCount: number | bigint): Buffer {
  const token = kind === 'done' ? TOKEN.DONE : kind === 'doneProc' ? TOKEN.DONEPROC : TOKEN.DONEINPROC;
  return new ByteWriter(13).u8(token).u16(status).u16(command).u64(BigInt(rowCount)).take();
}

function message(token: number, number: number, state: number, severity: number, text: string): Buffer {
  const body = new ByteWriter()
    .i32(number)
    .u8(state)
    .u8(severity)
    .usVarchar(text)
    .bVarchar(SERVER_NAME)
    .bVarchar('')
    .u32(1)
    .take();
  return new ByteWriter(body.length + 3).u8(token).u16(body.length).bytes(body).take();
}

export function error(failure: TdsError): Buffer {
  return message(TOKEN.ERROR, failure.number, failure.state, failure.severity, failure.message);
}

export function info(number: number, text: string): Buffer {
  return message(TOKEN.INFO, number, 1, 0, text);
}

export function loginAck(): Buffer {
  const body = new ByteWriter()
    .u8(1) // SQL_TSQL
    .u32be(0x74000004) // TDS 7.4
    .bVarchar(PROGRAM_NAME)
    .u8(PRODUCT_VERSION.major)
    .u8(PRODUCT_VERSION.minor)
    .u8(PRODUCT_VERSION.build >> 8)
    .u8(PRODUCT_VERSION.build & 0xff)
    .take();
  return new ByteWriter(body.length + 3).u8(TOKEN.LOGINACK).u16(body.length).bytes(body).take();
}

export const EnvChange = {
  DATABASE: 1,
  LANGUAGE: 2,
  PACKET_SIZE: 4,
  SQL_COLLATION: 7,
  BEGIN_TRANSACTION: 8,
  COMMIT_TRANSACTION: 9,
  ROLLBACK_TRANSACTION: 10,
  RESET_CONNECTION: 18,
} as const;

/** ENVCHANGE with text values (database, language, packet size). */
export function envChangeText(type: number, newValue: string, oldValue: string): Buffer {
  const body = new ByteWriter().u8(type).bVarchar(newValue).bVarchar(oldValue).take();
  return new ByteWriter(body.length + 3).u8(TOKEN.ENVCHANGE).u16(body.length).bytes(body).take();
}

/** ENVCHANGE with binary values (collation, transaction descriptors, reset acknowledgement). */
export function envChangeBinary(type: number, newValue: Uint8Array, oldValue: Uint8Array): Buffer {
  const body = new ByteWriter().u8(type).bVarbyte(newValue).bVarbyte(oldValue).take();
  return new ByteWriter(body.length + 3).u8(TOKEN.ENVCHANGE).u16(body.length).bytes(body).take();
}

export function returnStatus(value: number): Buffer {
  return new ByteWriter(5).u8(TOKEN.RETURNSTATUS).i32(value).take();
}

export interface Column {
  readonly name: string;
  readonly type: SqlType;
  readonly nullable: boolean;
  readonly identity?: boolean;
}

function columnFlags(column: Column): number {
  // fNullable, usUpdateable = read/write, fIdentity.
  return (column.nullable ? 0x01 : 0) | 0x08 | (column.identity ? 0x10 : 0);
}

export function colMetadata(columns: readonly Column[]): Buffer {
  const w = new ByteWriter().u8(TOKEN.COLMETADATA).u16(columns.length);
  for (const column of columns) {
    w.u32(0).u16(columnFlags(column));
    writeTypeInfo(w, column.type);
    w.bVarchar(column.name.slice(0, 128));
  }
  return w.take();
}

/** ROW, or NBCROW (a null bitmap, then only the values that are not null) when that is shorter. */
export function row(columns: readonly Column[], values: readonly StoredValue[]): Buffer {
  const w = new ByteWriter();
  const nulls = values.reduce<number>((count, value) => count + (value === null ? 1 : 0), 0);
  if (nulls > columns.length / 8) {
    const bitmap = Buffer.alloc(Math.ceil(columns.length / 8));
    values.forEach((value, index) => {
      if (value === null) bitmap[index >> 3] = (bitmap[index >> 3] ?? 0) | (1 << (index & 7));
    });
    w.u8(TOKEN.NBCROW).bytes(bitmap);
    columns.forEach((column, index) => {
      const value = values[index] ?? null;
      if (value !== null) writeValue(w, column.type, value);
    });
    return w.take();
  }
  w.u8(TOKEN.ROW);
  columns.forEach((column, index) => writeValue(w, column.type, values[index] ?? null));
  return w.take();
}

/** An output parameter's final value (sp_executesql `@x int OUTPUT`). */
export function returnValue(ordinal: number, name: string, type: SqlType, value: StoredValue): Buffer {
  const w = new ByteWriter().u8(TOKEN.RETURNVALUE).u16(ordinal).bVarchar(name).u8(0x01).u32(0).u16(0x01);
  writeTypeInfo(w, type);
  writeValue(w, type, value);
  return w.take();
}
