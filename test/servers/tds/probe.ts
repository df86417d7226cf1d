// A minimal TDS client: PRELOGIN (no encryption), then LOGIN7, reporting the LOGINACK or the
// ERROR tokens with their numbers (tedious reports a failed login without them). Used by
// test/servers/launchers/mssql.ts to see that the server answers, and by tests.
import net from 'node:net';
import { ByteReader, ByteWriter } from './bytes.ts';
import { MessageReader, PacketType } from './packets.ts';

export interface LoginError {
  readonly number: number;
  readonly severity: number;
  readonly message: string;
}

export type LoginResult =
  { readonly ok: true; readonly database: string } | { readonly ok: false; readonly errors: LoginError[] };

export interface LoginOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database?: string;
  readonly timeoutMs?: number;
}

function packet(type: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt8(0x01, 1); // END_OF_MESSAGE
  header.writeUInt16BE(8 + payload.length, 2);
  header.writeUInt8(1, 6);
  return Buffer.concat([header, payload]);
}

function prelogin(): Buffer {
  // VERSION, ENCRYPTION = NOT_SUP, terminator.
  const version = Buffer.from([0, 0, 0, 0, 0, 0]);
  const header = new ByteWriter().u8(0x00).u16be(11).u16be(6).u8(0x01).u16be(17).u16be(1).u8(0xff).take();
  return Buffer.concat([header, version, Buffer.from([0x02])]);
}

function login7(options: LoginOptions): Buffer {
  const scramble = (text: string): Buffer => {
    const bytes = Buffer.from(text, 'utf16le');
    for (let i = 0; i < bytes.length; i++) {
      const value = bytes[i] ?? 0;
      bytes[i] = (((value & 0x0f) << 4) | (value >> 4)) ^ 0xa5;
    }
    return bytes;
  };
  const parts: Array<[number, Buffer, number]> = [
    [36, Buffer.from('berth-probe', 'utf16le'), 11], // host name
    [40, Buffer.from(options.user, 'utf16le'), options.user.length],
    [44, scramble(options.password), options.password.length],
    [48, Buffer.from('berth-probe', 'utf16le'), 11], // app name
    [52, Buffer.from(options.host, 'utf16le'), options.host.length],
    [60, Buffer.from('berth-probe', 'utf16le'), 11], // client library
    [68, Buffer.from(options.database ?? '', 'utf16le'), (options.database ?? '').length],
  ];
  const fixed = Buffer.alloc(94);
  fixed.writeUInt32LE(0x74000004, 4); // TDS 7.4
  fixed.writeUInt32LE(4096, 8);
  fixed.writeUInt8(0xe0 | 0x40, 24); // … INIT_DB_FATAL: an unknown database fails the login
  fixed.writeUInt8(0x03, 25); // ODBC, INIT_LANG_FATAL
  let offset = fixed.length;
  for (const at of [36, 40, 44, 48, 52, 56, 60, 64, 68, 78, 82, 86]) fixed.writeUInt16LE(offset, at);
  const data: Buffer[] = [];
  for (const [at, bytes, chars] of parts) {
    fixed.writeUInt16LE(offset, at);
    fixed.writeUInt16LE(chars, at + 2);
    data.push(bytes);
    offset += bytes.length;
  }
  const body = Buffer.concat([fixed, ...data]);
  body.writeUInt32LE(body.length, 0);
  return body;
}

/** The tokens of a LOGIN7 response that matter here; others are skipped by their length. */
function readLoginResponse(data: Buffer): LoginResult {
  const r = new ByteReader(data);
  const errors: LoginError[] = [];
  let acknowledged = false;
  let database = '';
  while (r.remaining > 0) {
    const token = r.u8();
    if (token === 0xfd || token === 0xfe || token === 0xff) {
      r.bytes(12);
      continue;
    }
    const length = token === 0xae ? 0 : r.u16();
    const start = r.position;
    if (token === 0xaa) {
      const number = r.i32();
      r.u8();
      const severity = r.u8();
      errors.push({ number, severity, message: r.usVarchar() });
    } else if (token === 0xad) {
      acknowledged = true;
    } else if (token === 0xe3 && r.u8() === 1) {
      database = r.bVarchar();
    } else if (token === 0xae) {
      break; // FEATUREEXTACK (never requested here): nothing after it matters
    }
    r.position = start + length;
  }
  return acknowledged && errors.length === 0 ? { ok: true, database } : { ok: false, errors };
}

/** Logs in over a fresh connection and closes it; rejects on network errors and time-outs. */
export function tdsLogin(options: LoginOptions): Promise<LoginResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: options.host, port: options.port });
    let stage: 'prelogin' | 'login' = 'prelogin';
    const finish = (error: Error | undefined, result?: LoginResult): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else if (result) resolve(result);
    };
    const timer = setTimeout(
      () => finish(new Error(`no TDS login answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const reader = new MessageReader((message) => {
      if (stage === 'prelogin') {
        stage = 'login';
        socket.write(packet(PacketType.LOGIN7, login7(options)));
        return;
      }
      try {
        finish(undefined, readLoginResponse(message.data));
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('connect', () => socket.write(packet(PacketType.PRELOGIN, prelogin())));
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error('connection closed before the login answer')));
  });
}
