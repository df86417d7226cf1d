// The two messages before a session exists: PRELOGIN (version and encryption negotiation) and
// LOGIN7 (credentials, database, packet size).
import { ByteReader, ByteWriter } from './bytes.ts';
import { PRODUCT_VERSION } from './tokens.ts';

const PRELOGIN = {
  VERSION: 0x00,
  ENCRYPTION: 0x01,
  INSTOPT: 0x02,
  THREADID: 0x03,
  MARS: 0x04,
  TERMINATOR: 0xff,
};
export const Encryption = { OFF: 0x00, ON: 0x01, NOT_SUP: 0x02, REQ: 0x03 } as const;

/** The client's ENCRYPTION option (NOT_SUP when it sent none). */
export function preloginEncryption(data: Buffer): number {
  let at = 0;
  while (at + 5 <= data.length && data[at] !== PRELOGIN.TERMINATOR) {
    const token = data.readUInt8(at);
    const offset = data.readUInt16BE(at + 1);
    const length = data.readUInt16BE(at + 3);
    if (token === PRELOGIN.ENCRYPTION && length >= 1 && offset < data.length) return data.readUInt8(offset);
    at += 5;
  }
  return Encryption.NOT_SUP;
}

/** The PRELOGIN answer: our version, the encryption we do, no instance, no MARS. */
export function preloginResponse(encryption: number, threadId: number): Buffer {
  const version = new ByteWriter(6)
    .u8(PRODUCT_VERSION.major)
    .u8(PRODUCT_VERSION.minor)
    .u16be(PRODUCT_VERSION.build)
    .u16be(0)
    .take();
  const options: Array<[number, Buffer]> = [
    [PRELOGIN.VERSION, version],
    [PRELOGIN.ENCRYPTION, Buffer.from([encryption])],
    [PRELOGIN.INSTOPT, Buffer.from([0])],
    [PRELOGIN.THREADID, new ByteWriter(4).u32be(threadId).take()],
    [PRELOGIN.MARS, Buffer.from([0])],
  ];
  const header = new ByteWriter();
  const body = new ByteWriter();
  let offset = options.length * 5 + 1;
  for (const [token, data] of options) {
    header.u8(token).u16be(offset).u16be(data.length);
    body.bytes(data);
    offset += data.length;
  }
  header.u8(PRELOGIN.TERMINATOR);
  return Buffer.concat([header.take(), body.take()]);
}

export interface Login {
  readonly tdsVersion: number;
  readonly packetSize: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly appName: string;
  readonly hostName: string;
  /** OptionFlags1 fInitDbFatal: an unknown database fails the login instead of a warning. */
  readonly initDbFatal: boolean;
  /** OptionFlags2 fIntSecurity: Windows authentication, which this server does not do. */
  readonly integratedSecurity: boolean;
}

/** LOGIN7's password bytes are obfuscated: each byte XOR 0xA5, then its nibbles swapped. */
export function decodePassword(bytes: Buffer): string {
  const plain = Buffer.from(bytes);
  for (let i = 0; i < plain.length; i++) {
    const value = (plain[i] ?? 0) ^ 0xa5;
    plain[i] = ((value & 0x0f) << 4) | (value >> 4);
  }
  return plain.toString('utf16le');
}

export function parseLogin7(data: Buffer): Login {
  const r = new ByteReader(data);
  r.u32(); // total length
  const tdsVersion = r.u32();
  const packetSize = r.u32();
  r.position = 24;
  const optionFlags1 = r.u8();
  const optionFlags2 = r.u8();
  // Offset and character count of each variable part, from byte 36 on.
  const text = (at: number, password = false): string => {
    const offset = data.readUInt16LE(at);
    const chars = data.readUInt16LE(at + 2);
    if (chars === 0) return '';
    const bytes = new ByteReader(data);
    bytes.position = offset;
    const raw = bytes.bytes(chars * 2);
    return password ? decodePassword(raw) : raw.toString('utf16le');
  };
  return {
    tdsVersion,
    packetSize,
    hostName: text(36),
    user: text(40),
    password: text(44, true),
    appName: text(48),
    database: text(68),
    initDbFatal: (optionFlags1 & 0x40) !== 0,
    integratedSecurity: (optionFlags2 & 0x80) !== 0,
  };
}
