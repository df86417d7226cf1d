import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { DeliveredRecord } from '../../ports/broker.ts';

// for…in, not Object.entries: no arrays allocated per message.
function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

const noValue = Buffer.alloc(0);

/**
 * A fetched message, decoded when read: a batch's records are made before its first handler
 * runs, and strings decoded up front would live through the whole batch, copied by every
 * young-generation collection on the way, where strings decoded in turn die young.
 */
export class KafkaRecord implements DeliveredRecord {
  readonly #message: KafkaMessage;
  readonly #partition: number;
  // null: not decoded yet (undefined is a decoded absent key).
  #key: string | undefined | null = null;
  #headers: Record<string, string> | undefined = undefined;

  constructor(message: KafkaMessage, partition: number) {
    this.#message = message;
    this.#partition = partition;
  }

  get key(): string | undefined {
    if (this.#key === null) this.#key = this.#message.key === null ? undefined : this.#message.key.toString();
    return this.#key;
  }

  get value(): Buffer {
    return this.#message.value ?? noValue;
  }

  get headers(): Record<string, string> {
    return (this.#headers ??= stringHeaders(this.#message.headers));
  }

  get position(): string {
    return `${this.#partition}:${this.#message.offset}`;
  }

  get partition(): number {
    return this.#partition;
  }

  get offset(): string {
    return this.#message.offset;
  }
}
