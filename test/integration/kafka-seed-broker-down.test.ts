// Issue #24, on both Kafka drivers: a broker list whose first entry is down still connects, and
// health comes up after at most a probe or two. kafkajs starts each new client at the list's first
// entry; a probe that made a new client after each failed connect stayed down for good.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createPlatformaticKafkaBroker } from '../../src/adapters/platformatic-kafka/index.ts';
import type { HealthResult } from '../../src/ports/index.ts';
import { findKafka } from '../support/kafka-servers.ts';
import { freePort } from '../support/ports.ts';
import { silentRuntime } from '../support/runtime.ts';

const kafka = await findKafka();
const drivers = { kafkajs: createKafkaBroker, 'platformatic-kafka': createPlatformaticKafkaBroker };

describe(
  'kafka with the first broker of the list down',
  { skip: 'skip' in kafka ? kafka.skip : false },
  () => {
    for (const [driver, create] of Object.entries(drivers))
      it(`${driver}: health comes up within three probes, and a publish succeeds`, async () => {
        if ('skip' in kafka) return;
        const broker = create(
          { brokers: [`127.0.0.1:${await freePort()}`, ...kafka.brokers], topics: { autoCreate: true } },
          silentRuntime(),
        );
        try {
          const answers: HealthResult[] = [];
          while (answers.length < 3 && answers.at(-1)?.status !== 'up') answers.push(await broker.health());
          assert.equal(answers.at(-1)?.status, 'up', `health answered ${JSON.stringify(answers)}`);
          await broker.publish(`seed-down-${driver}-${process.pid}`, { value: 'after a seed down' });
        } finally {
          await broker.close();
        }
      });
  },
);
