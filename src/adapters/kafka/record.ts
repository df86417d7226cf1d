import type { IHeaders, KafkaMessage } from 'kafkajs';
import { LazyKafkaRecord } from '../shared/kafka-record.ts';

const noValue = Buffer.alloc(0);

/** A message kafkajs fetched, decoded when read. */
export class KafkaRecord extends LazyKafkaRecord {
  readonly #message: KafkaMessage;

  constructor(message: KafkaMessage, partition: number) {
    super(partition);
    this.#message = message;
  }

  get value(): Buffer {
    return this.#message.value ?? noValue;
  }

  get offset(): string {
    return this.#message.offset;
  }

  protected decodeKey(): string | undefined {
    return this.#message.key === null ? undefined : this.#message.key.toString();
  }

  // for…in, not Object.entries: no arrays allocated per message.
  protected decodeHeaders(): Record<string, string> {
    const headers: IHeaders | undefined = this.#message.headers;
    const out: Record<string, string> = {};
    for (const name in headers) {
      const value = headers[name];
      const first = Array.isArray(value) ? value[0] : value;
      if (first !== undefined) out[name] = first.toString();
    }
    return out;
  }
}
