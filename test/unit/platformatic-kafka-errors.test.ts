import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  TimeoutError,
  UnsupportedApiError,
  UserError,
} from '@platformatic/kafka';
import kafkajs from 'kafkajs';
import { classifyPlatformaticKafkaError } from '../../src/adapters/platformatic-kafka/index.ts';
import { javaCompatiblePartitioner } from '../../src/adapters/platformatic-kafka/partitioner.ts';

const retriesExhausted = (...errors: Error[]): Error =>
  new MultipleErrors(`produce failed ${errors.length} times.`, errors);
// A Produce (API 0) response with an error on one partition, as the client builds it.
const response = (code: number): Error => new ResponseError(0, 9, { '/responses/0/0': [code, null] }, {});
const refused = (): Error =>
  new NetworkError('Connection to 127.0.0.1:19092 failed.', {
    cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:19092'), { code: 'ECONNREFUSED' }),
  });

describe('classifyPlatformaticKafkaError', () => {
  const table: [string, unknown, string, boolean][] = [
    ['unknown topic', new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION'), 'not_found', false],
    ['message too large', new ProtocolError('MESSAGE_TOO_LARGE'), 'validation', false],
    ['invalid topic', new ProtocolError('INVALID_TOPIC_EXCEPTION'), 'validation', false],
    ['topic authorization', new ProtocolError('TOPIC_AUTHORIZATION_FAILED'), 'unauthorized', false],
    ['topic exists, in a response', response(36), 'conflict', false],
    ['not leader, in a response', response(6), 'unavailable', true],
    ['rebalancing', new ProtocolError('REBALANCE_IN_PROGRESS'), 'unavailable', true],
    ['quota', new ProtocolError('THROTTLING_QUOTA_EXCEEDED'), 'rate_limited', true],
    ['broker timed out', new ProtocolError('REQUEST_TIMED_OUT'), 'timeout', true],
    ['connection refused', refused(), 'unavailable', true],
    ['connection closed', new NetworkError('Connection closed'), 'unavailable', true],
    [
      'client closed',
      new NetworkError('Client is closed.', { canRetry: false, closed: true }),
      'closed',
      false,
    ],
    ['request timeout', new TimeoutError('Request timed out', { canRetry: true }), 'timeout', true],
    [
      'connect timeout',
      new TimeoutError('Connection to 127.0.0.1:19092 timed out.', { canRetry: true }),
      'unavailable',
      true,
    ],
    ['sasl', new AuthenticationError('SASL authentication failed.'), 'unauthorized', false],
    ['an API the broker lacks', new UnsupportedApiError('Unsupported API Produce.'), 'config', false],
    [
      'retries exhausted, the last attempt read first',
      retriesExhausted(refused(), response(3)),
      'not_found',
      false,
    ],
    ['retries exhausted on refused connections', retriesExhausted(refused(), refused()), 'unavailable', true],
    ['a cause unwrapped', new UserError('Failed to send.', { cause: refused() }), 'unavailable', true],
    ['a client bug', new UserError('Cannot close producer while producing messages.'), 'internal', false],
    ['a plain bug', new TypeError('x is not a function'), 'internal', false],
    ['not an error', 'oops', 'internal', false],
  ];
  const retryableReasons = new Set(['unavailable', 'timeout', 'rate_limited']);

  for (const [name, error, reason, retryable] of table) {
    it(`${name} → ${reason}${retryable ? ', retryable' : ''}`, () => {
      const classified = classifyPlatformaticKafkaError(error);
      assert.equal(classified.reason, reason);
      assert.equal(classified.retryable ?? retryableReasons.has(classified.reason), retryable);
    });
  }

  it('survives an error that causes itself', () => {
    const error = new UserError('loop');
    Object.defineProperty(error, 'cause', { value: error });
    assert.equal(classifyPlatformaticKafkaError(error).reason, 'internal');
  });
});

describe('javaCompatiblePartitioner', () => {
  // kafkajs's default partitioner is the Java client's: the same key lands on the same partition.
  const kafkajsPartition = kafkajs.Partitioners.DefaultPartitioner();
  const keys = Array.from({ length: 2_000 }, (_, i) => `key-${i}-${(i * 7919).toString(36)}`);

  for (const partitions of [1, 3, 7, 12]) {
    it(`puts every key where kafkajs does, on ${partitions} partitions`, () => {
      const partitioner = javaCompatiblePartitioner();
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
        offlineReplicas: [],
      }));
      for (const key of keys) {
        const ours = partitioner({ topic: 't', key }, Buffer.from(key), { metadata: undefined }) % partitions;
        const theirs = kafkajsPartition({ topic: 't', partitionMetadata, message: { key, value: null } });
        assert.equal(ours, theirs, `key ${key}`);
      }
    });
  }

  it('spreads keyless records round-robin per topic', () => {
    const partitioner = javaCompatiblePartitioner();
    const next = (topic: string): number => partitioner({ topic }, undefined, { metadata: undefined }) % 3;
    assert.deepEqual([next('a'), next('a'), next('b'), next('a'), next('a')], [0, 1, 0, 2, 0]);
  });
});
