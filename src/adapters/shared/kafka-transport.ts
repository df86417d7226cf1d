// A Kafka connection that a TLS listener closed: Kafka drops a plaintext client without a word, which
// kafkajs reports as "Closed connection", the same as an outage. Asked once, the listener answers a
// TLS handshake: then the user reads "plaintext to a TLS port" instead.
import { transportMismatch } from './tls.ts';

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
  const first = brokers[0] ?? '';
  const colon = first.lastIndexOf(':');
  const target = { host: first.slice(0, colon), port: Number(first.slice(colon + 1)) };
  const noHello = { send: '', answers: () => false };
  return async (error: unknown): Promise<unknown> => {
    if (tls || !closedBeforeAnswer(error)) return error;
    return (await transportMismatch(target, false, noHello, 500, error)) ?? error;
  };
}
