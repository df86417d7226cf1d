// The @platformatic/kafka adapter's conformance over Kafka's secure listeners, on 3.9 and 4.4: SASL_SSL with a
// SCRAM-SHA-512 user, and SSL that requires a client certificate (mutual TLS), both verified
// against the run's CA.
import { after, describe } from 'node:test';
import { createPlatformaticKafkaBroker } from '../../src/adapters/platformatic-kafka/index.ts';
import type { Broker } from '../../src/ports/index.ts';
import { brokerConformance } from '../../src/testing/broker-conformance.ts';
import { secretWatch, serverSecrets } from '../support/secret-watch.ts';
import { findKafkaSecure, kafkaSecureListeners } from '../support/secure-servers.ts';

const opened: Broker[] = [];
const watch = secretWatch();
const secrets: Record<string, string> = {};
after(() => Promise.all(opened.map((broker) => broker.close())));
after(() => watch.assertNoSecrets(secrets));

for (const [service, version] of [
  ['kafka', '3.9'],
  ['kafka4', '4.4'],
] as const) {
  const kafka = await findKafkaSecure(service);
  if ('skip' in kafka) {
    describe(
      `broker conformance: platformatic-kafka on Kafka ${version} over SASL_SSL and mutual TLS`,
      { skip: kafka.skip },
      () => undefined,
    );
    continue;
  }
  Object.assign(secrets, serverSecrets(kafka));
  for (const [listener, options] of kafkaSecureListeners(kafka)) {
    brokerConformance({
      name: `platformatic-kafka on Kafka ${version} over ${listener}`,
      deliveryTimeoutMs: 60_000,
      create: () => {
        const broker = createPlatformaticKafkaBroker(options, watch.runtime);
        opened.push(broker);
        return broker;
      },
    });
  }
}
