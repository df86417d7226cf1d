import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createKafkaBroker, type KafkaBroker } from '../../src/adapters/kafka/index.ts';
import { isInfraError, type ErrorReason } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findKafka } from '../support/servers.ts';

const kafka = await findKafka();

async function failure(
  promise: Promise<unknown>,
): Promise<{ reason: ErrorReason; name: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isInfraError(error), `not an InfraError: ${String(error)}`);
    return { reason: error.reason, name: error.name, message: error.message };
  }
  assert.fail('expected a rejection');
}

describe(
  'kafka broker: what the broker itself refuses',
  { skip: 'skip' in kafka ? kafka.skip : false },
  () => {
    const opened: KafkaBroker[] = [];
    after(() => Promise.all(opened.map((broker) => broker.close())));
    const open = (options: Partial<Parameters<typeof createKafkaBroker>[0]>): KafkaBroker => {
      if ('skip' in kafka) throw new Error('unreachable');
      // One attempt with a long deadline, so what is seen is the broker's answer, not a retry or a timeout.
      const broker = createKafkaBroker(
        { brokers: kafka.brokers, policies: { timeoutMs: 60_000, retry: { maxAttempts: 1 } }, ...options },
        silentRuntime(),
      );
      opened.push(broker);
      return broker;
    };

    it('an unknown topic, when topics are not created on use, is not_found', async () => {
      const broker = open({ topics: { autoCreate: false } });
      const error = await failure(broker.publish(`missing-${randomUUID()}`, { value: 1 }));
      assert.equal(error.reason, 'not_found');
      assert.equal(error.name, 'InfraError');
      assert.doesNotMatch(error.message, /KafkaJS/);
    });

    it('a message over the broker’s own size limit is validation, even when berth’s limit allows it', async () => {
      const broker = open({ maxMessageBytes: 5_000_000 });
      const error = await failure(broker.publish(`big-${randomUUID()}`, { value: 'x'.repeat(2_000_000) }));
      assert.equal(error.reason, 'validation');
      assert.doesNotMatch(error.message, /KafkaJS/);
    });
  },
);
