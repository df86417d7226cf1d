/** Headers berth sets on messages and dead letters; the `x-berth-` prefix is reserved. */
export const brokerHeaders = {
  id: 'x-berth-id',
  error: 'x-berth-error',
  attempts: 'x-berth-attempts',
  originalTopic: 'x-berth-original-topic',
  deadLetteredAt: 'x-berth-dead-lettered-at',
} as const;
