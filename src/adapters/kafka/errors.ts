import { kafkaProtocolErrors } from '../shared/kafka-protocol-errors.ts';
import { isNetworkErrorCode } from '../shared/network-errors.ts';
import type { ErrorClassification, ErrorReason } from '../../ports/errors.ts';
import { classifyTlsError } from '../shared/tls.ts';

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
  const tls = classifyTlsError(error);
  if (tls) return tls;
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const e = current as KafkaLikeError;
    if (typeof e.type === 'string' && e.type in kafkaProtocolErrors) {
      const known = kafkaProtocolErrors[e.type]!;
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
