// guardBroker's publish path: concurrent publishes share one guarded backend call, checked with
// a recording backend (guard's logic, no server involved).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrokerAdapter, BrokerRecord } from '../../src/ports/broker.ts';
import { InfraError, isInfraError } from '../../src/ports/errors.ts';
import { guardBroker } from '../../src/runtime/broker/guarded-broker.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
import { silentRuntime } from '../support/runtime.ts';

function recordingBackend(failWith?: InfraError) {
  const calls: { topic: string; records: readonly BrokerRecord[] }[] = [];
  const adapter: BrokerAdapter = {
    system: 'recording',
    checkTopic: () => undefined,
    maxRecordBytes: 1_000_000,
    publish(topic, records) {
      calls.push({ topic, records });
      return failWith ? Promise.reject(failWith) : Promise.resolve();
    },
    consumer: () => ({ start: () => Promise.resolve(), stop: () => Promise.resolve() }),
    probe: () => Promise.resolve({ status: 'up' }),
    classifyError: () => ({ reason: 'internal' }),
    close: () => Promise.resolve(),
  };
  return { adapter, calls };
}

describe('broker publish gathering', () => {
  it('sends concurrent publishes to one topic in one guarded call, in call order', async () => {
    const { adapter, calls } = recordingBackend();
    const broker = guardBroker(adapter, {}, silentRuntime());
    await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => broker.publish('a', { key: 'k', value: i })),
      broker.publish('b', [{ value: 'x' }, { value: 'y' }]),
    ]);
    assert.deepEqual(
      calls.map((call) => [call.topic, call.records.length]),
      [
        ['a', 50],
        ['b', 2],
      ],
    );
    const values = calls[0]!.records.map((record) => Number(Buffer.from(record.value).toString()));
    assert.deepEqual(
      values,
      Array.from({ length: 50 }, (_, i) => i),
    );
    await broker.close();
  });

  it('sends a publish with its own deadline or signal in a call of its own', async () => {
    const { adapter, calls } = recordingBackend();
    const broker = guardBroker(adapter, {}, silentRuntime());
    await Promise.all([
      broker.publish('a', { value: 1 }),
      broker.publish('a', { value: 2 }, { timeoutMs: 500 }),
      broker.publish('a', { value: 3 }, { signal: new AbortController().signal }),
      broker.publish('a', { value: 4 }),
    ]);
    assert.deepEqual(
      calls.map((call) => call.records.length),
      [1, 1, 2],
    );
    await broker.close();
  });

  it('rejects every caller of a shared call that failed, with its reason', async () => {
    const { adapter, calls } = recordingBackend(new InfraError('unavailable', 'backend down'));
    const broker = guardBroker(adapter, {}, silentRuntime({ retry: { maxAttempts: 1 } }));
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => broker.publish('a', { value: i })),
    );
    assert.equal(calls.length, 1);
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.ok(isInfraError(result.reason) && result.reason.reason === 'unavailable');
    }
    await broker.close();
  });

  it('splits a burst past 1,000 records into calls of at most 1,000', async () => {
    const { adapter, calls } = recordingBackend();
    const broker = guardBroker(adapter, {}, silentRuntime());
    await Promise.all(Array.from({ length: 2_500 }, (_, i) => broker.publish('a', { value: i })));
    assert.deepEqual(
      calls.map((call) => call.records.length),
      [1_000, 1_000, 500],
    );
    await broker.close();
  });

  it('sends what was gathered when closed in the same turn, instead of failing it as closed', async () => {
    const { adapter, calls } = recordingBackend();
    const broker = guardBroker(adapter, {}, silentRuntime());
    const published = broker.publish('a', { value: 1 });
    await broker.close();
    await published;
    assert.equal(calls.length, 1);
    await rejectsWith(broker.publish('a', { value: 2 }), 'closed');
  });
});
