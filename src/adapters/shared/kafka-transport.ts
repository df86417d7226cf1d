// A Kafka connection that a TLS listener closed: Kafka drops a plaintext client without a word, which
// kafkajs reports as "Closed connection" and @platformatic/kafka as "Connection closed", the same as
// an outage. Asked once, the listener answers a TLS handshake: then the user reads "plaintext to a
// TLS port" instead.
import type { ConnectionOptions } from 'node:tls';
import { plaintextToTlsDiagnosis as diagnosis, tlsRefusalDiagnosis } from './tls.ts';

// Down causes and the attempts of an aggregate ("initProducerId failed 3 times").
const closedBeforeAnswer = (error: unknown, depth = 0): boolean => {
  if (typeof error !== 'object' || error === null || depth > 8) return false;
  const { name, code, message, cause, errors } = error as Record<string, unknown>;
  if (name === 'KafkaJSConnectionClosedError' || code === 'ECONNRESET') return true;
  // @platformatic/kafka's socket closed: its one error without a code of its own for it.
  if (code === 'PLT_KFK_NETWORK' && message === 'Connection closed') return true;
  if (Array.isArray(errors) && errors.some((inner) => closedBeforeAnswer(inner, depth + 1))) return true;
  return closedBeforeAnswer(cause, depth + 1);
};

/**
 * The connect error, or the named one: for a plaintext client when the first broker speaks TLS; for
 * a TLS client (`tls` its options) when the broker refuses its certificate, or the lack of one,
 * unless `refusalsReported` (kafkajs reports the server's alert itself).
 */
export function closedConnectionDiagnosis(
  brokers: readonly string[],
  tls: ConnectionOptions | undefined,
  refusalsReported = false,
): (error: unknown) => Promise<unknown> {
  const first = brokers[0] ?? '';
  if (tls === undefined) return diagnosis(first, closedBeforeAnswer);
  if (refusalsReported) return (error) => Promise.resolve(error);
  return tlsRefusalDiagnosis(first, tls, closedBeforeAnswer);
}
