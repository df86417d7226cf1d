import type { Admin, Consumer } from 'kafkajs';

/**
 * Gives each assigned partition a position before the paused consumer fetches: its committed
 * offset, or else the partition's end now, committed so that a restart or another member of
 * the group starts there too. Seeks every assigned partition, which also replaces a seek kafkajs
 * still holds from an earlier assignment.
 */
export async function positionAssigned(
  admin: Admin,
  consumer: Consumer,
  topic: string,
  group: string,
  assigned: readonly number[],
  current: () => boolean,
): Promise<void> {
  if (assigned.length === 0) return;
  const [ends, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId: group, topics: [topic] }),
  ]);
  const committedOffsets = new Map(committed?.partitions.map((p) => [p.partition, p.offset]));
  const endOffsets = new Map(ends.map((p) => [p.partition, p.high]));
  const positions = assigned.map((partition) => {
    const offset = committedOffsets.get(partition);
    const end = endOffsets.get(partition);
    if (offset !== undefined && offset !== '-1') return { partition, offset, isNew: false };
    if (end === undefined) throw new Error(`Kafka listed no end offset for ${topic} partition ${partition}`);
    return { partition, offset: end, isNew: true };
  });
  const fresh = positions.filter((p) => p.isNew);
  if (fresh.length > 0 && current())
    await consumer.commitOffsets(fresh.map(({ partition, offset }) => ({ topic, partition, offset })));
  if (!current()) return;
  for (const { partition, offset } of positions) consumer.seek({ topic, partition, offset });
}
