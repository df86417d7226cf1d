// Little helpers to build and read TDS byte layouts (mostly little-endian, strings in UCS-2).

/** Appends to a growing buffer; `take()` hands over what was written so far. */
export class ByteWriter {
  private buffer: Buffer;
  private position = 0;

  constructor(initialSize = 256) {
    this.buffer = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.position;
  }

  /** The offset of `bytes` new bytes; call it before reading `this.buffer`, which it may replace. */
  private reserve(bytes: number): number {
    const start = this.position;
    if (start + bytes > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, start + bytes));
      this.buffer.copy(grown, 0, 0, start);
      this.buffer = grown;
    }
    this.position += bytes;
    return start;
  }

  u8(value: number): this {
    const at = this.reserve(1);
    this.buffer.writeUInt8(value & 0xff, at);
    return this;
  }
  u16(value: number): this {
    const at = this.reserve(2);
    this.buffer.writeUInt16LE(value, at);
    return this;
  }
  u16be(value: number): this {
    const at = this.reserve(2);
    this.buffer.writeUInt16BE(value, at);
    return this;
  }
  i16(value: number): this {
    const at = this.reserve(2);
    this.buffer.writeInt16LE(value, at);
    return this;
  }
  u24(value: number): this {
    const at = this.reserve(3);
    this.buffer.writeUIntLE(value, at, 3);
    return this;
  }
  u32(value: number): this {
    const at = this.reserve(4);
    this.buffer.writeUInt32LE(value, at);
    return this;
  }
  u32be(value: number): this {
    const at = this.reserve(4);
    this.buffer.writeUInt32BE(value, at);
    return this;
  }
  i32(value: number): this {
    const at = this.reserve(4);
    this.buffer.writeInt32LE(value, at);
    return this;
  }
  u40(value: number): this {
    const at = this.reserve(5);
    this.buffer.writeUIntLE(value, at, 5);
    return this;
  }
  u64(value: bigint): this {
    const at = this.reserve(8);
    this.buffer.writeBigUInt64LE(value, at);
    return this;
  }
  i64(value: bigint): this {
    const at = this.reserve(8);
    this.buffer.writeBigInt64LE(value, at);
    return this;
  }
  f32(value: number): this {
    const at = this.reserve(4);
    this.buffer.writeFloatLE(value, at);
    return this;
  }
  f64(value: number): this {
    const at = this.reserve(8);
    this.buffer.writeDoubleLE(value, at);
    return this;
  }
  bytes(data: Uint8Array): this {
    const at = this.reserve(data.length);
    this.buffer.set(data, at);
    return this;
  }
  ucs2(text: string): this {
    const start = this.reserve(text.length * 2);
    this.buffer.write(text, start, text.length * 2, 'utf16le');
    return this;
  }
  /** B_VARCHAR: a one-byte character count, then UCS-2. */
  bVarchar(text: string): this {
    return this.u8(text.length).ucs2(text);
  }
  /** US_VARCHAR: a two-byte character count, then UCS-2. */
  usVarchar(text: string): this {
    return this.u16(text.length).ucs2(text);
  }
  /** B_VARBYTE: a one-byte length, then the bytes. */
  bVarbyte(data: Uint8Array): this {
    return this.u8(data.length).bytes(data);
  }
  /** Overwrites a u16 written earlier (a length known only afterwards). */
  patchU16(at: number, value: number): void {
    this.buffer.writeUInt16LE(value, at);
  }
  /** The bytes written so far (a copy-free view), and starts over. */
  take(): Buffer {
    const out = this.buffer.subarray(0, this.position);
    this.buffer = Buffer.allocUnsafe(Math.max(256, Math.min(this.buffer.length, 64 * 1024)));
    this.position = 0;
    return out;
  }
}

/** Thrown when a message ends before what its layout announces. */
export class TruncatedError extends Error {}

/** Reads a message's bytes front to back; every read checks the bounds. */
export class ByteReader {
  position = 0;
  readonly data: Buffer;

  constructor(data: Buffer) {
    this.data = data;
  }

  get remaining(): number {
    return this.data.length - this.position;
  }

  private advance(bytes: number): number {
    const start = this.position;
    if (start + bytes > this.data.length) throw new TruncatedError(`message ends ${bytes} bytes early`);
    this.position += bytes;
    return start;
  }

  u8(): number {
    return this.data.readUInt8(this.advance(1));
  }
  u16(): number {
    return this.data.readUInt16LE(this.advance(2));
  }
  i16(): number {
    return this.data.readInt16LE(this.advance(2));
  }
  u24(): number {
    return this.data.readUIntLE(this.advance(3), 3);
  }
  u32(): number {
    return this.data.readUInt32LE(this.advance(4));
  }
  i32(): number {
    return this.data.readInt32LE(this.advance(4));
  }
  u40(): number {
    return this.data.readUIntLE(this.advance(5), 5);
  }
  u64(): bigint {
    return this.data.readBigUInt64LE(this.advance(8));
  }
  i64(): bigint {
    return this.data.readBigInt64LE(this.advance(8));
  }
  f32(): number {
    return this.data.readFloatLE(this.advance(4));
  }
  f64(): number {
    return this.data.readDoubleLE(this.advance(8));
  }
  bytes(length: number): Buffer {
    const start = this.advance(length);
    return this.data.subarray(start, start + length);
  }
  ucs2(chars: number): string {
    return this.bytes(chars * 2).toString('utf16le');
  }
  bVarchar(): string {
    return this.ucs2(this.u8());
  }
  usVarchar(): string {
    return this.ucs2(this.u16());
  }
}
