// Raw Kafka protocol requests (non-flexible versions, one request a connection) for the launchers
// and the tests: plain protocol rather than kafkajs, so `npm run services` neither loads kafkajs
// nor shows its warnings, and a test can ask a broker what it serves without a client's opinion.
import net from 'node:net';

export interface KafkaBroker {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

/** The versions a broker serves of one API, from its ApiVersions reply. */
export interface KafkaApiRange {
  readonly apiKey: number;
  readonly min: number;
  readonly max: number;
}

const METADATA = { apiKey: 3, version: 4, name: 'Metadata' }; // non-flexible; Kafka 1.0 up to 4.x
const API_VERSIONS = { apiKey: 18, version: 0, name: 'ApiVersions' }; // every broker answers v0

/** Reads a reply frame from its start; each read moves on. */
class FrameReader {
  readonly frame: Buffer;
  #offset = 0;
  constructor(frame: Buffer) {
    this.frame = frame;
  }
  int16(): number {
    const value = this.frame.readInt16BE(this.#offset);
    this.#offset += 2;
    return value;
  }
  int32(): number {
    const value = this.frame.readInt32BE(this.#offset);
    this.#offset += 4;
    return value;
  }
  string(): string | undefined {
    const length = this.int16();
    if (length < 0) return undefined;
    const value = this.frame.toString('utf8', this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }
  count(what: string): number {
    const count = this.int32();
    if (count < 0 || count > 10_000) throw new Error(`reply with ${count} ${what}`);
    return count;
  }
}

/**
 * Sends one request (header v1: api key, version, correlation id, client id; then `body`) and
 * resolves a reader past the reply's correlation id. Rejects on connection errors or timeout.
 */
export function kafkaRequest(
  host: string,
  port: number,
  api: { apiKey: number; version: number; name: string },
  body: Buffer,
  timeoutMs: number,
): Promise<FrameReader> {
  return new Promise((resolve, reject) => {
    const correlationId = Math.floor(Math.random() * 0x7fffffff);
    const clientId = Buffer.from('berth-services');
    const header = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
    let offset = header.writeInt16BE(api.apiKey, 0);
    offset = header.writeInt16BE(api.version, offset);
    offset = header.writeInt32BE(correlationId, offset);
    offset = header.writeInt16BE(clientId.length, offset);
    clientId.copy(header, offset);
    const size = Buffer.alloc(4);
    size.writeInt32BE(header.length + body.length);

    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    const finish = (error: Error | undefined, reader?: FrameReader) => {
      clearTimeout(timer);
      socket.destroy();
      if (error || !reader) reject(error ?? new Error('no reply'));
      else resolve(reader);
    };
    const timer = setTimeout(
      () => finish(new Error(`no ${api.name} reply from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('connect', () => socket.write(Buffer.concat([size, header, body])));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const length = received.readInt32BE(0);
      if (length < 4 || length > 16 * 1024 * 1024) {
        finish(new Error(`${host}:${port} sent a frame of ${length} bytes: not Kafka`));
        return;
      }
      if (received.length < 4 + length) return;
      const reader = new FrameReader(received.subarray(4, 4 + length));
      if (reader.int32() !== correlationId)
        finish(new Error(`${api.name} reply with another correlation id`));
      else finish(undefined, reader);
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error(`${host}:${port} closed the connection before replying`)));
  });
}

/**
 * Asks the broker for its cluster metadata (no topics) and resolves the brokers it lists (empty
 * until the broker has registered with its controller).
 */
export async function kafkaBrokers(host: string, port: number, timeoutMs = 2000): Promise<KafkaBroker[]> {
  const body = Buffer.alloc(4 + 1);
  body.writeInt32BE(0, 0); // topics: none
  body.writeInt8(0, 4); // allow_auto_topic_creation: false
  const reply = await kafkaRequest(host, port, METADATA, body, timeoutMs);
  reply.int32(); // throttle_time_ms
  const brokers: KafkaBroker[] = [];
  for (let i = reply.count('brokers'); i > 0; i--) {
    const nodeId = reply.int32();
    const brokerHost = reply.string() ?? '';
    const brokerPort = reply.int32();
    reply.string(); // rack
    brokers.push({ nodeId, host: brokerHost, port: brokerPort });
  }
  return brokers;
}

/** The API versions the broker says it serves (what a client picks its versions from). */
export async function kafkaApiVersions(
  host: string,
  port: number,
  timeoutMs = 2000,
): Promise<KafkaApiRange[]> {
  const reply = await kafkaRequest(host, port, API_VERSIONS, Buffer.alloc(0), timeoutMs);
  const errorCode = reply.int16();
  if (errorCode !== 0) throw new Error(`ApiVersions answered error ${errorCode}`);
  const ranges: KafkaApiRange[] = [];
  for (let i = reply.count('APIs'); i > 0; i--) {
    ranges.push({ apiKey: reply.int16(), min: reply.int16(), max: reply.int16() });
  }
  return ranges;
}
