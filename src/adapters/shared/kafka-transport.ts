// A Kafka connection that a TLS listener closed: Kafka drops a plaintext client without a word, which
// kafkajs reports as "Closed connection", the same as an outage. Asked once, the listener answers a
// TLS handshake: then the user reads "plaintext to a TLS port" instead.
import { plaintextToTlsDiagnosis as diagnosis } from './tls.ts';

const closedBeforeAnswer = (error: unknown): boolean => {
  for (let cause = error, depth = 0; typeof cause === 'object' && cause !== null && depth < 5; depth++) {
    const { name, code } = cause as { name?: unknown; code?: unknown };
    if (name === 'KafkaJSConnectionClosedError' || code === 'ECONNRESET') return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
};

/** For a plaintext client: the connect error, or the named one when the first broker speaks TLS. */
export function plaintextToTlsDiagnosis(brokers: readonly string[], tls: boolean) {
  const diagnose = diagnosis(brokers[0] ?? '', closedBeforeAnswer);
  return (error: unknown): Promise<unknown> => (tls ? Promise.resolve(error) : diagnose(error));
}
