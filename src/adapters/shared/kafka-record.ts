import type { DeliveredRecord } from '../../ports/broker.ts';

/**
 * A fetched Kafka message, its key and headers decoded when first read: a batch's records are
 * made before its first handler runs, and strings decoded up front would live through the whole
 * batch, copied by every young-generation collection on the way, where strings decoded in turn
 * die young. Each Kafka driver says how its own message decodes.
 */
export abstract class LazyKafkaRecord implements DeliveredRecord {
  readonly partition: number;
  // null: not decoded yet (undefined is a decoded absent key).
  #key: string | undefined | null = null;
  #headers: Record<string, string> | undefined = undefined;

  constructor(partition: number) {
    this.partition = partition;
  }

  abstract get value(): Uint8Array;
  abstract get offset(): string;
  protected abstract decodeKey(): string | undefined;
  protected abstract decodeHeaders(): Record<string, string>;

  get key(): string | undefined {
    if (this.#key === null) this.#key = this.decodeKey();
    return this.#key;
  }

  get headers(): Record<string, string> {
    return (this.#headers ??= this.decodeHeaders());
  }

  get position(): string {
    return `${this.partition}:${this.offset}`;
  }
}
