import type {
  Broker,
  BrokerAdapter,
  BrokerRecord,
  ConsumerLoop,
  ConsumerLoopOptions,
  DeliveredRecord,
  PartitionLag,
} from '../../ports/broker.ts';
import type { HealthResult } from '../../ports/component.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import { guardBroker, type GuardedBrokerOptions } from '../../runtime/broker/guarded-broker.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';

const partitionsPerTopic = 4;
const batchSize = 100;
const redeliveryDelayMs = 100;

interface Topic {
  partitions: BrokerRecord[][];
  nextKeyless: number;
}

interface GroupMember {
  wake: () => void;
}

interface Group {
  /** Committed offset per partition. */
  offsets: number[];
  members: GroupMember[];
}

// FNV-1a: a stable key → partition mapping, so one key always lands in one partition.
function partitionOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitionsPerTopic;
}

/**
 * An in-process broker with Kafka's shape: partitions by key, consumer groups with committed
 * offsets, partitions shared among a group's members, redelivery of uncommitted batches.
 */
class MemoryBrokerAdapter implements BrokerAdapter {
  readonly system = 'memory';
  readonly maxRecordBytes: number;
  readonly #topics = new Map<string, Topic>();
  readonly #groups = new Map<string, Group>();

  constructor(maxRecordBytes: number) {
    this.maxRecordBytes = maxRecordBytes;
  }

  checkTopic(topic: string): string | undefined {
    return /^[A-Za-z0-9._-]{1,249}$/.test(topic)
      ? undefined
      : 'must be 1 to 249 letters, digits, dots, underscores or dashes';
  }

  #topic(name: string): Topic {
    let topic = this.#topics.get(name);
    if (topic === undefined) {
      topic = { partitions: Array.from({ length: partitionsPerTopic }, () => []), nextKeyless: 0 };
      this.#topics.set(name, topic);
    }
    return topic;
  }

  publish(topicName: string, records: readonly BrokerRecord[]): Promise<void> {
    const topic = this.#topic(topicName);
    for (const record of records) {
      const partition =
        record.key === undefined ? topic.nextKeyless++ % partitionsPerTopic : partitionOf(record.key);
      // Copies, so a publisher mutating its buffer later changes nothing.
      topic.partitions[partition]!.push({
        key: record.key,
        value: Uint8Array.from(record.value),
        headers: { ...record.headers },
      });
    }
    for (const [groupKey, group] of this.#groups) {
      if (groupKey.startsWith(`${topicName}\u0000`)) for (const member of group.members) member.wake();
    }
    return Promise.resolve();
  }

  consumer(options: ConsumerLoopOptions): ConsumerLoop {
    const topic = this.#topic(options.topic);
    const groupKey = `${options.topic}\u0000${options.group}`;
    let running = false;
    let loop: Promise<void> | undefined;
    let wake: () => void = () => undefined;
    const member: GroupMember = { wake: () => wake() };
    const idle = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });

    const run = async (): Promise<void> => {
      while (running) {
        const group = this.#groups.get(groupKey)!;
        const index = group.members.indexOf(member);
        // Partition p belongs to member p mod (members): each key stays with one member.
        const mine = topic.partitions
          .map((_, partition) => partition)
          .filter((partition) => partition % group.members.length === index);
        const batches = mine
          .map((partition) => {
            const from = group.offsets[partition]!;
            const records: DeliveredRecord[] = topic.partitions[partition]!.slice(from, from + batchSize).map(
              (record, i) => ({
                ...record,
                position: `${partition}:${from + i}`,
                partition,
                offset: String(from + i),
              }),
            );
            return { partition, from, records };
          })
          .filter((batch) => batch.records.length > 0);
        if (batches.length === 0) {
          await idle(1_000);
          continue;
        }
        const results = await Promise.allSettled(batches.map((batch) => options.process(batch.records)));
        let failed = false;
        results.forEach((result, i) => {
          const batch = batches[i]!;
          // Commit only what was handled, and only if no other member took the partition meanwhile.
          if (result.status === 'fulfilled' && group.offsets[batch.partition] === batch.from) {
            group.offsets[batch.partition] = batch.from + result.value;
          } else if (result.status === 'rejected') failed = true;
        });
        if (failed && running) await idle(redeliveryDelayMs);
      }
    };

    return {
      start: () => {
        let group = this.#groups.get(groupKey);
        if (group === undefined) {
          const offsets = topic.partitions.map((partition) => (options.fromBeginning ? 0 : partition.length));
          group = { offsets, members: [] };
          this.#groups.set(groupKey, group);
        }
        group.members.push(member);
        running = true;
        loop = run().catch((error: unknown) => options.onCrash(error));
        return Promise.resolve();
      },
      stop: async () => {
        running = false;
        wake();
        await loop;
        const group = this.#groups.get(groupKey);
        if (group) group.members = group.members.filter((m) => m !== member);
      },
    };
  }

  probe(): Promise<HealthResult> {
    return Promise.resolve({ status: 'up', details: { topics: this.#topics.size } });
  }

  lag(topicName: string, group: string): Promise<PartitionLag[]> {
    const partitions = this.#topics.get(topicName)?.partitions ?? [];
    const offsets = this.#groups.get(`${topicName}\u0000${group}`)?.offsets;
    if (offsets === undefined) return Promise.resolve([]);
    return Promise.resolve(
      partitions.map((records, partition) => ({
        partition: String(partition),
        lag: records.length - (offsets[partition] ?? 0),
      })),
    );
  }

  classifyError(): ErrorClassification {
    return { reason: 'internal' };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export interface MemoryBrokerOptions extends GuardedBrokerOptions {
  /** Largest message accepted, in bytes. Default 1 MiB, as Kafka's default. */
  maxMessageBytes?: number;
}

export function createMemoryBroker(
  options: MemoryBrokerOptions = {},
  runtime: Runtime = defaultRuntime(),
): Broker {
  return guardBroker(new MemoryBrokerAdapter(options.maxMessageBytes ?? 1_048_576), options, runtime);
}
