import { compatibilityPartitioner, type Partitioner } from '@platformatic/kafka';

/**
 * The Java client's partitioning, which kafkajs's default partitioner also follows: a keyed
 * record goes to murmur2(key) & 0x7fffffff modulo the partition count (the client's own default
 * takes murmur2 >>> 0, which puts about half the keys elsewhere), a keyless one round-robin per
 * topic. The client takes the result modulo the partition count.
 */
export function javaCompatiblePartitioner(): Partitioner<string, Buffer, string, string> {
  const next = new Map<string, number>();
  return (message, key) => {
    if (key !== undefined) return compatibilityPartitioner(message, key);
    const n = next.get(message.topic) ?? 0;
    next.set(message.topic, (n + 1) % 0x7fffffff);
    return n;
  };
}
