/** Headers berth sets on messages and dead letters; the `x-berth-` prefix is reserved. */
export const brokerHeaders = {
  id: 'x-berth-id',
  error: 'x-berth-error',
  attempts: 'x-berth-attempts',
  originalTopic: 'x-berth-original-topic',
  deadLetteredAt: 'x-berth-dead-lettered-at',
  /** Where a dead letter was read: `partition:offset` on Kafka, the entry id on Redis Streams. */
  originalPosition: 'x-berth-original-position',
  /** On backends with partitions (Kafka, memory): the same position, split. */
  originalPartition: 'x-berth-original-partition',
  originalOffset: 'x-berth-original-offset',
} as const;
