import type { ErrorReason } from '../../ports/errors.ts';

/**
 * Kafka protocol error names (kafkajs's `type`, @platformatic/kafka's `apiId`) that mean something
 * specific to a caller. The protocol is one, so both Kafka drivers read this table.
 */
export const kafkaProtocolErrors: Readonly<Record<string, { reason: ErrorReason; retryable?: boolean }>> = {
  UNKNOWN_TOPIC_OR_PARTITION: { reason: 'not_found', retryable: false },
  INVALID_TOPIC_EXCEPTION: { reason: 'validation' },
  INVALID_GROUP_ID: { reason: 'validation' },
  MESSAGE_TOO_LARGE: { reason: 'validation' },
  RECORD_LIST_TOO_LARGE: { reason: 'validation' },
  INVALID_RECORD: { reason: 'validation' },
  CORRUPT_MESSAGE: { reason: 'validation' },
  INVALID_REQUIRED_ACKS: { reason: 'config' },
  INVALID_REPLICATION_FACTOR: { reason: 'config' },
  INVALID_PARTITIONS: { reason: 'config' },
  POLICY_VIOLATION: { reason: 'validation' },
  TOPIC_AUTHORIZATION_FAILED: { reason: 'unauthorized' },
  GROUP_AUTHORIZATION_FAILED: { reason: 'unauthorized' },
  CLUSTER_AUTHORIZATION_FAILED: { reason: 'unauthorized' },
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: { reason: 'unauthorized' },
  SASL_AUTHENTICATION_FAILED: { reason: 'unauthorized' },
  TOPIC_ALREADY_EXISTS: { reason: 'conflict' },
  THROTTLING_QUOTA_EXCEEDED: { reason: 'rate_limited' },
  NOT_ENOUGH_REPLICAS: { reason: 'unavailable' },
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: { reason: 'unavailable' },
  LEADER_NOT_AVAILABLE: { reason: 'unavailable' },
  NOT_LEADER_FOR_PARTITION: { reason: 'unavailable' },
  NOT_LEADER_OR_FOLLOWER: { reason: 'unavailable' },
  NOT_COORDINATOR: { reason: 'unavailable' },
  COORDINATOR_NOT_AVAILABLE: { reason: 'unavailable' },
  COORDINATOR_LOAD_IN_PROGRESS: { reason: 'unavailable' },
  REBALANCE_IN_PROGRESS: { reason: 'unavailable' },
  NETWORK_EXCEPTION: { reason: 'unavailable' },
  KAFKA_STORAGE_ERROR: { reason: 'unavailable' },
  REQUEST_TIMED_OUT: { reason: 'timeout' },
};

/** Why Kafka would refuse a topic name, checked before any I/O; undefined when it is fine. */
export function checkKafkaTopic(topic: string): string | undefined {
  if (topic === '.' || topic === '..') return 'must not be "." or ".."';
  return /^[A-Za-z0-9._-]{1,249}$/.test(topic)
    ? undefined
    : 'must be 1 to 249 letters, digits, dots, underscores or dashes';
}
