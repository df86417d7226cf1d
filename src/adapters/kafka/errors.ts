import { isNetworkErrorCode } from '../shared/network-errors.ts';
import type { ErrorClassification, ErrorReason } from '../../ports/errors.ts';

// Kafka protocol error types (KafkaJSProtocolError.type) that mean something specific to a caller.
const protocolTypes: Record<string, { reason: ErrorReason; retryable?: boolean }> = {
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

// Errors by class name: kafkajs sets `name` on every error it throws.
const errorNames: Record<string, { reason: ErrorReason; retryable?: boolean }> = {
  KafkaJSConnectionError: { reason: 'unavailable' },
  KafkaJSConnectionClosedError: { reason: 'unavailable' },
  KafkaJSBrokerNotFound: { reason: 'unavailable' },
  KafkaJSGroupCoordinatorNotFound: { reason: 'unavailable' },
  KafkaJSMetadataNotLoaded: { reason: 'unavailable' },
  KafkaJSTopicMetadataNotLoaded: { reason: 'unavailable' },
  KafkaJSStaleTopicMetadataAssignment: { reason: 'unavailable' },
  KafkaJSRequestTimeoutError: { reason: 'timeout' },
  KafkaJSTimeout: { reason: 'timeout' },
  KafkaJSLockTimeout: { reason: 'timeout' },
  KafkaJSSASLAuthenticationError: { reason: 'unauthorized' },
  KafkaJSServerDoesNotSupportApiKey: { reason: 'config' },
  KafkaJSInvalidProducerEpoch: { reason: 'conflict' },
};

interface KafkaLikeError {
  name?: unknown;
  type?: unknown;
  retriable?: unknown;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown;
}

/**
 * Maps a kafkajs error to berth's reasons. Wrappers such as KafkaJSNumberOfRetriesExceeded
 * are unwrapped to the error that caused them, since that names the real problem.
 */
export function classifyKafkaError(error: unknown): ErrorClassification {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const e = current as KafkaLikeError;
    if (typeof e.type === 'string' && e.type in protocolTypes) {
      const known = protocolTypes[e.type]!;
      return { ...known, message: `the broker answered ${e.type}` };
    }
    if (typeof e.name === 'string' && e.name in errorNames) return errorNames[e.name]!;
    const next =
      e.cause ?? e.originalError ?? (Array.isArray(e.errors) ? (e.errors as unknown[])[0] : undefined);
    if (next === undefined) {
      // An unknown kafkajs error still says whether retrying may help.
      if (e.retriable === true) return { reason: 'unavailable' };
      const code = (current as { code?: unknown }).code;
      if (isNetworkErrorCode(code)) return { reason: 'unavailable' };
      break;
    }
    current = next;
  }
  return { reason: 'internal' };
}
