import type { Message } from '@platformatic/kafka';
import { LazyKafkaRecord } from '../shared/kafka-record.ts';

const noValue = Buffer.alloc(0);

/** A message @platformatic/kafka fetched (its parts left as bytes), decoded when read. */
export class PlatformaticKafkaRecord extends LazyKafkaRecord {
  /** The fetched message, whose offset and leader epoch a commit needs. */
  readonly message: Message;

  constructor(message: Message) {
    super(message.partition);
    this.message = message;
  }

  get value(): Buffer {
    return this.message.value ?? noValue;
  }

  get offset(): string {
    return this.message.offset.toString();
  }

  protected decodeKey(): string | undefined {
    const key = this.message.key as Buffer | null | undefined;
    return key === undefined || key === null ? undefined : key.toString();
  }

  // The entries, not the Map: kafkajs's record keeps a repeated header's first value, and so does this.
  protected decodeHeaders(): Record<string, string> {
    const out: Record<string, string> = {};
    const entries = this.message.headerEntries;
    // An index loop: an iterator and a destructured pair per header showed in the consume profile.
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const value = entry[1] as Buffer | null | undefined;
      if (value === undefined || value === null) continue;
      const header = entry[0].toString();
      if (!(header in out)) out[header] = value.toString();
    }
    return out;
  }
}
