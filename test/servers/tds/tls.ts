// TLS as TDS 7.x does it: the handshake records travel inside PRELOGIN packets (one response
// message per client message), then TLS records flow bare over TCP with the TDS packets inside.
// tedious 20 refuses `encrypt: true` unless the server encrypts, so this is what mssql's
// default needs (with `trustServerCertificate: true`, or the run's CA as `ca`).
import fs from 'node:fs';
import type net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { runCertificates, type RunCertificates } from '../certificates.ts';
import { MessageReader, PacketType } from './packets.ts';

/** The server's key and certificate (of the run's CA) in `dir/tls`, made once; undefined without openssl. */
export function serverCertificate(dir: string): { key: string; cert: string } | undefined {
  let certificates: RunCertificates;
  try {
    certificates = runCertificates(dir);
  } catch {
    return undefined; // no openssl here: the server then refuses encryption
  }
  return {
    key: fs.readFileSync(certificates.serverKeyFile, 'utf8'),
    cert: fs.readFileSync(certificates.serverCertFile, 'utf8'),
  };
}

/** How long the handshake output may keep coming before it is sent as one PRELOGIN message. */
const FLIGHT_SETTLE_MS = 5;

/** Between the TCP socket and a server-side TLS socket: wraps the handshake, then steps aside. */
export class TlsTransport {
  readonly cleartext: tls.TLSSocket;
  private readonly socket: net.Socket;
  private readonly encrypted: Duplex;
  private readonly handshakeReader: MessageReader;
  private handshaking = true;
  private flight: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(socket: net.Socket, context: tls.SecureContext, onData: (chunk: Buffer) => void) {
    this.socket = socket;
    this.encrypted = new Duplex({
      read: () => {},
      write: (chunk: Buffer, _encoding, done) => {
        if (this.handshaking) {
          this.flight.push(chunk);
          clearTimeout(this.timer);
          this.timer = setTimeout(() => this.sendFlight(), FLIGHT_SETTLE_MS);
          done();
        } else if (socket.write(chunk)) done();
        else socket.once('drain', () => done());
      },
    });
    this.cleartext = new tls.TLSSocket(this.encrypted, { isServer: true, secureContext: context });
    this.cleartext.on('data', onData);
    this.cleartext.on('error', () => socket.destroy());
    this.handshakeReader = new MessageReader((message) => this.encrypted.push(message.data));
  }

  /** Everything the client sends once encryption was agreed on. */
  receive(chunk: Buffer): void {
    // During the handshake the client sends PRELOGIN packets; its first bare TLS record ends that.
    if (this.handshaking && chunk[0] !== PacketType.PRELOGIN) {
      this.handshaking = false;
      this.sendFlight();
    }
    if (this.handshaking) this.handshakeReader.push(chunk);
    else this.encrypted.push(chunk);
  }

  destroy(): void {
    clearTimeout(this.timer);
    this.cleartext.destroy();
  }

  private sendFlight(): void {
    clearTimeout(this.timer);
    if (this.flight.length === 0) return;
    const data = Buffer.concat(this.flight);
    this.flight = [];
    const payloadSize = 4096 - 8;
    for (let at = 0; at < data.length; at += payloadSize) {
      const payload = data.subarray(at, at + payloadSize);
      const header = Buffer.alloc(8);
      header.writeUInt8(PacketType.PRELOGIN, 0);
      header.writeUInt8(at + payloadSize >= data.length ? 0x01 : 0x00, 1);
      header.writeUInt16BE(8 + payload.length, 2);
      header.writeUInt8((at / payloadSize + 1) % 256, 6);
      this.socket.write(Buffer.concat([header, payload]));
    }
  }
}
