// TDS packet framing: an 8-byte header (type, status, big-endian length, SPID, packet id, window)
// before each packet; a message is the packets up to one whose status has END_OF_MESSAGE.

export const PacketType = {
  SQL_BATCH: 0x01,
  RPC: 0x03,
  TABULAR_RESULT: 0x04,
  ATTENTION: 0x06,
  BULK_LOAD: 0x07,
  TRANSACTION_MANAGER: 0x0e,
  LOGIN7: 0x10,
  PRELOGIN: 0x12,
} as const;

const STATUS_END_OF_MESSAGE = 0x01;
const STATUS_IGNORE = 0x02;
const STATUS_RESET_CONNECTION = 0x08;
const STATUS_RESET_CONNECTION_SKIP_TRAN = 0x10;
export const HEADER_LENGTH = 8;
/** The largest packet size a client may negotiate (LOGIN7 PacketSize). */
export const MAX_PACKET_SIZE = 32_767;
/** The smallest: tedious and SQL Server refuse anything below 512. */
export const MIN_PACKET_SIZE = 512;

export interface Message {
  readonly type: number;
  readonly data: Buffer;
  /** The client gave up sending it (cancel before the last packet): answer, but do not run it. */
  readonly ignored: boolean;
  /** The pool asks for sp_reset_connection semantics before this request runs. */
  readonly resetConnection: boolean;
}

export class ProtocolError extends Error {}

/** Reassembles messages from whatever chunks the socket delivers. */
export class MessageReader {
  private pending: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private partsLength = 0;
  private type = -1;
  private reset = false;
  private readonly onMessage: (message: Message) => void;
  private readonly maxMessageBytes: number;

  constructor(onMessage: (message: Message) => void, maxMessageBytes = 256 * 1024 * 1024) {
    this.onMessage = onMessage;
    this.maxMessageBytes = maxMessageBytes;
  }

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= HEADER_LENGTH) {
      const length = this.pending.readUInt16BE(2);
      if (length < HEADER_LENGTH) throw new ProtocolError(`packet length ${length} is below the header size`);
      if (this.pending.length < length) return;
      const packet = this.pending.subarray(0, length);
      this.pending = this.pending.subarray(length);
      this.packet(packet);
    }
  }

  private packet(packet: Buffer): void {
    const type = packet.readUInt8(0);
    const status = packet.readUInt8(1);
    if (this.parts.length === 0) {
      this.type = type;
      this.reset = (status & (STATUS_RESET_CONNECTION | STATUS_RESET_CONNECTION_SKIP_TRAN)) !== 0;
    } else if (type !== this.type) {
      throw new ProtocolError(`packet of type ${type} inside a message of type ${this.type}`);
    }
    const payload = packet.subarray(HEADER_LENGTH);
    this.parts.push(payload);
    this.partsLength += payload.length;
    if (this.partsLength > this.maxMessageBytes) {
      throw new ProtocolError(`message larger than ${this.maxMessageBytes} bytes`);
    }
    if ((status & STATUS_END_OF_MESSAGE) === 0) return;
    const data =
      this.parts.length === 1 ? (this.parts[0] ?? payload) : Buffer.concat(this.parts, this.partsLength);
    const message: Message = {
      type: this.type,
      data: Buffer.from(data), // detached from the socket's chunk, which may be large
      ignored: (status & STATUS_IGNORE) !== 0,
      resetConnection: this.reset,
    };
    this.parts = [];
    this.partsLength = 0;
    this.onMessage(message);
  }
}

/** Where packets go: the TCP socket, or the TLS socket once encryption is on. */
export interface Sink {
  write(data: Buffer): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  removeListener(event: 'drain' | 'close', listener: () => void): unknown;
  readonly destroyed: boolean;
}

/**
 * Writes one response message at a time, cut into packets of the negotiated size, and
 * tells the producer when the socket wants it to wait (`ready()`), so a large result set is
 * never built up in memory.
 */
export class ResponseWriter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private packetId = 1;
  private blocked = false;
  private packetSize: number;
  private readonly sink: () => Sink;
  private readonly spid: number;

  constructor(sink: () => Sink, packetSize: number, spid: number) {
    this.sink = sink;
    this.packetSize = packetSize;
    this.spid = spid;
  }

  /** Takes effect from the next packet (after the ENVCHANGE that announces it). */
  setPacketSize(size: number): void {
    this.packetSize = Math.min(MAX_PACKET_SIZE, Math.max(MIN_PACKET_SIZE, size));
  }

  /** Token bytes of the current message; full packets leave at once. */
  write(data: Buffer): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.buffered += data.length;
    const payloadSize = this.packetSize - HEADER_LENGTH;
    // Strictly greater: the last packet of a message always carries at least one byte.
    if (this.buffered <= payloadSize) return;
    let all = Buffer.concat(this.chunks, this.buffered);
    while (all.length > payloadSize) {
      this.send(all.subarray(0, payloadSize), false);
      all = all.subarray(payloadSize);
    }
    this.chunks = [all];
    this.buffered = all.length;
  }

  /** Ends the current message (END_OF_MESSAGE on its last packet). */
  end(): void {
    this.send(Buffer.concat(this.chunks, this.buffered), true);
    this.chunks = [];
    this.buffered = 0;
    this.packetId = 1;
  }

  /** Resolves when the socket has room again (at once unless a write returned false). */
  ready(): Promise<void> {
    if (!this.blocked) return Promise.resolve();
    const sink = this.sink();
    if (sink.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        sink.removeListener('drain', done);
        sink.removeListener('close', done);
        this.blocked = false;
        resolve();
      };
      sink.once('drain', done);
      sink.once('close', done);
    });
  }

  private send(payload: Buffer, last: boolean): void {
    const header = Buffer.allocUnsafe(HEADER_LENGTH);
    header.writeUInt8(PacketType.TABULAR_RESULT, 0);
    header.writeUInt8(last ? STATUS_END_OF_MESSAGE : 0, 1);
    header.writeUInt16BE(HEADER_LENGTH + payload.length, 2);
    header.writeUInt16BE(this.spid, 4);
    header.writeUInt8(this.packetId, 6);
    header.writeUInt8(0, 7);
    this.packetId = (this.packetId + 1) % 256;
    const sink = this.sink();
    if (sink.destroyed) return;
    if (!sink.write(Buffer.concat([header, payload]))) this.blocked = true;
  }
}
