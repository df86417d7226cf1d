// Both Kafka drivers against Kafka's secure listeners when the settings are wrong: a wrong password,
// an untrusted certificate, no client certificate where one is required, and plaintext to a TLS
// port each end named, within 2 s, never retried into a timeout; no password in any log or error.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import { createKafkaBroker, type KafkaBrokerOptions } from '../../src/adapters/kafka/index.ts';
import { createPlatformaticKafkaBroker } from '../../src/adapters/platformatic-kafka/index.ts';
import type { Broker, ErrorReason } from '../../src/ports/index.ts';
import { Redacted } from '../../src/ports/redacted.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
import { secretWatch, serverSecrets } from '../support/secret-watch.ts';
import { findKafkaSecure } from '../support/secure-servers.ts';

const kafka = await findKafkaSecure('kafka');
const drivers = { kafkajs: createKafkaBroker, 'platformatic-kafka': createPlatformaticKafkaBroker };

describe(
  'kafka over SASL_SSL and mutual TLS: failures are named, fast, and keep secrets',
  { skip: 'skip' in kafka ? kafka.skip : false },
  () => {
    if ('skip' in kafka) return;
    const ca = fs.readFileSync(kafka.caFile, 'utf8');
    const { password } = kafka;
    const opened: Broker[] = [];
    after(() => Promise.all(opened.map((broker) => broker.close())));
    const watch = secretWatch();
    after(() => watch.assertNoSecrets({ ...serverSecrets(kafka), 'the wrong password': 'not-the-password' }));

    async function failsEachTime(
      create: (typeof drivers)[keyof typeof drivers],
      options: KafkaBrokerOptions,
      reason: ErrorReason,
      words: RegExp,
    ) {
      const broker = create(
        { topics: { autoCreate: false }, ...options, policies: { breaker: { consecutiveFailures: 2 } } },
        watch.runtime,
      );
      opened.push(broker);
      let slowestMs = 0;
      for (let call = 0; call < 3; call++) {
        const started = performance.now();
        const error = await rejectsWith(
          watch.watch(broker.publish('berth-secure-failures', { value: 'x' })),
          reason,
        );
        const elapsedMs = performance.now() - started;
        slowestMs = Math.max(slowestMs, Math.round(elapsedMs));
        assert.ok(elapsedMs < 2_000, `call ${call} failed in ${Math.round(elapsedMs)} ms`);
        assert.match(error.message, words, `call ${call}: ${error.message}`);
        assert.equal(error.message.includes(password), false);
      }
      const health = await broker.health();
      watch.keep(health);
      assert.equal(health.status, 'down');
      console.log(`${reason} (${String(words)}): slowest of 3 calls ${slowestMs} ms`);
    }

    for (const [driver, create] of Object.entries(drivers)) {
      it(`on ${driver}: a wrong password is unauthorized, named, and never retried`, async () => {
        await failsEachTime(
          create,
          {
            brokers: kafka.saslBrokers,
            tls: { ca },
            sasl: {
              mechanism: 'scram-sha-512',
              username: kafka.username,
              password: new Redacted('not-the-password'),
            },
          },
          'unauthorized',
          /authentication failed/i,
        );
      });

      it(`on ${driver}: an untrusted certificate (no CA given) is a config error that says so`, async () => {
        await failsEachTime(
          create,
          {
            brokers: kafka.saslBrokers,
            ssl: true,
            sasl: { mechanism: 'scram-sha-512', username: kafka.username, password: kafka.password },
          },
          'config',
          /untrusted certificate/,
        );
      });

      it(`on ${driver}: no client certificate where mutual TLS is required is a config error that says so`, async () => {
        await failsEachTime(
          create,
          { brokers: kafka.mtlsBrokers, tls: { ca } },
          'config',
          /client certificate/,
        );
      });

      it(`on ${driver}: plaintext to a TLS port is a config error that says so`, async () => {
        await failsEachTime(
          create,
          {
            brokers: kafka.saslBrokers,
            sasl: { mechanism: 'scram-sha-512', username: kafka.username, password: kafka.password },
          },
          'config',
          /plaintext to a TLS port/,
        );
      });
    }
  },
);
