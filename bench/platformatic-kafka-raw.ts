// The raw @platformatic/kafka sides of bench/broker.bench.ts: a batched producer and a consumer
// loop doing the port's per-message work, with nothing of berth's around them.
import { randomUUID } from 'node:crypto';
import { Consumer, Producer, type Message } from '@platformatic/kafka';

/** What the raw consumer decoded, kept so that the decoding is not optimised away. */
export const decoded = { chars: 0 };

export interface RawMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Sends `messages(i)` 64 at a time, one request in flight, as the port has at c64. */
export class RawPlatformaticProducer {
  readonly #producer: Producer<string, string, string, string>;

  constructor(brokers: string[]) {
    const text = (data?: string): Buffer | undefined => (data === undefined ? undefined : Buffer.from(data));
    this.#producer = new Producer({
      clientId: 'bench-raw-platformatic',
      bootstrapBrokers: brokers,
      idempotent: true,
      serializers: { key: text, value: text, headerKey: text, headerValue: text },
    });
  }

  async publish(
    topic: string,
    count: number,
    batch: number,
    message: (i: number) => RawMessage,
  ): Promise<number> {
    const started = performance.now();
    for (let i = 0; i < count; i += batch) {
      await this.#producer.send({
        messages: Array.from({ length: batch }, (_, j) => ({ topic, ...message(i + j) })),
      });
    }
    return performance.now() - started;
  }

  close(): Promise<void> {
    return this.#producer.close();
  }
}

/**
 * Reads `count` messages of `topic` from the beginning with a fresh group: what the stream has
 * buffered as one batch, each message's key, id header and JSON value decoded and handled in
 * turn, each partition's last offset committed after the batch. Resolves the rate, first to last.
 */
export async function consumeRawPlatformatic<T>(
  brokers: string[],
  topic: string,
  count: number,
  handle: (value: T) => Promise<void>,
): Promise<number> {
  const consumer = new Consumer({
    clientId: 'bench-raw-platformatic',
    bootstrapBrokers: brokers,
    groupId: `raw-platformatic-${randomUUID()}`,
    autocommit: false,
    maxWaitTime: 500,
  });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    let seen = 0;
    let first = 0;
    let busy = false;
    return await new Promise<number>((resolve, reject) => {
      const pump = async (): Promise<void> => {
        if (busy) return;
        busy = true;
        try {
          for (;;) {
            const batch: Message[] = [];
            for (let m = stream.read() as Message | null; m !== null; m = stream.read() as Message | null) {
              batch.push(m);
              if (batch.length === 2_000) break;
            }
            if (batch.length === 0) break;
            if (first === 0) first = performance.now();
            const last = new Map<number, Message>();
            for (const message of batch) {
              decoded.chars += message.key.toString().length;
              for (const [name, header] of message.headerEntries)
                if (name.toString() === 'x-berth-id') decoded.chars += header.toString().length;
              await handle(JSON.parse(message.value.toString()) as T);
              last.set(message.partition, message);
            }
            await consumer.commit({
              offsets: [...last.values()].map((m) => ({
                topic,
                partition: m.partition,
                offset: m.offset + 1n,
                leaderEpoch: m.leaderEpoch,
              })),
            });
            seen += batch.length;
            if (seen >= count) return resolve(count / ((performance.now() - first) / 1000));
          }
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        } finally {
          busy = false;
        }
      };
      stream.on('readable', () => void pump());
      stream.on('error', reject);
    }).finally(() => stream.close());
  } finally {
    await consumer.close(true);
  }
}
