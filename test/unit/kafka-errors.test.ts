import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { classifyKafkaError } from '../../src/adapters/kafka/index.ts';

// kafkajs is CommonJS and spreads its error classes into its exports: named imports cannot see them.
const {
  KafkaJSBrokerNotFound,
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
} = kafkajs;

// Exported at run time, but missing from kafkajs's type declarations.
const { KafkaJSConnectionClosedError } = kafkajs as unknown as {
  KafkaJSConnectionClosedError: new (message: string, where: { host: string; port: number }) => Error;
};

// kafkajs builds protocol errors from its own table entries: { type, code, retriable, message }.
const protocol = (type: string, retriable = false): Error =>
  new KafkaJSProtocolError(Object.assign(new Error(`${type} happened`), { type, code: 1, retriable }));

describe('classifyKafkaError', () => {
  const table: [string, unknown, string, boolean][] = [
    ['unknown topic', protocol('UNKNOWN_TOPIC_OR_PARTITION'), 'not_found', false],
    ['message too large', protocol('MESSAGE_TOO_LARGE'), 'validation', false],
    ['invalid topic', protocol('INVALID_TOPIC_EXCEPTION'), 'validation', false],
    ['invalid group id', protocol('INVALID_GROUP_ID'), 'validation', false],
    ['topic authorization', protocol('TOPIC_AUTHORIZATION_FAILED'), 'unauthorized', false],
    ['group authorization', protocol('GROUP_AUTHORIZATION_FAILED'), 'unauthorized', false],
    ['topic exists', protocol('TOPIC_ALREADY_EXISTS'), 'conflict', false],
    ['leader moving', protocol('LEADER_NOT_AVAILABLE', true), 'unavailable', true],
    ['not leader', protocol('NOT_LEADER_OR_FOLLOWER', true), 'unavailable', true],
    ['rebalancing', protocol('REBALANCE_IN_PROGRESS', true), 'unavailable', true],
    ['quota', protocol('THROTTLING_QUOTA_EXCEEDED', true), 'rate_limited', true],
    ['broker timed out', protocol('REQUEST_TIMED_OUT', true), 'timeout', true],
    [
      'connection refused',
      new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'),
      'unavailable',
      true,
    ],
    ['no broker', Reflect.construct(KafkaJSBrokerNotFound, ['no broker']) as Error, 'unavailable', true],
    ['request timeout', new KafkaJSRequestTimeoutError('Request Produce timed out'), 'timeout', true],
    [
      'sasl',
      Reflect.construct(KafkaJSSASLAuthenticationError, ['SASL PLAIN authentication failed']) as Error,
      'unauthorized',
      false,
    ],
    [
      'retries exhausted, unwrapped to the cause',
      new KafkaJSNumberOfRetriesExceeded(protocol('UNKNOWN_TOPIC_OR_PARTITION'), {
        retryCount: 5,
        retryTime: 100,
      }),
      'not_found',
      false,
    ],
    [
      'non-retriable wrapper of a connection error',
      Reflect.construct(KafkaJSNonRetriableError, [
        'gave up',
        { cause: new KafkaJSConnectionError('gone') },
      ]) as Error,
      'unavailable',
      true,
    ],
    // A producer's send whose one retry met the lost broker again (a cluster's dead leader).
    [
      'send retries exhausted on a refused connection',
      new KafkaJSNumberOfRetriesExceeded(
        new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:19193', {
          broker: '127.0.0.1:19193',
          code: 'ECONNREFUSED',
        }),
        { retryCount: 1, retryTime: 100 },
      ),
      'unavailable',
      true,
    ],
    // A single broker lost: the send's reconnect gives up at once, wrapped twice.
    [
      'non-retriable wrapper of exhausted retries on a closed connection',
      Reflect.construct(KafkaJSNonRetriableError, [
        'gave up',
        {
          cause: new KafkaJSNumberOfRetriesExceeded(
            new KafkaJSConnectionClosedError('Closed connection', { host: '127.0.0.1', port: 19092 }),
            { retryCount: 0, retryTime: 300 },
          ),
        },
      ]) as Error,
      'unavailable',
      true,
    ],
    [
      'unknown but retriable',
      new KafkaJSError('something transient', { retriable: true }),
      'unavailable',
      true,
    ],
    ['unknown and final', new KafkaJSError('something final', { retriable: false }), 'internal', false],
    ['a plain bug', new TypeError('x is not a function'), 'internal', false],
  ];
  const retryableReasons = new Set(['unavailable', 'timeout', 'rate_limited']);

  for (const [name, error, reason, retryable] of table) {
    it(`${name} → ${reason}${retryable ? ', retryable' : ''}`, () => {
      const classified = classifyKafkaError(error);
      assert.equal(classified.reason, reason);
      assert.equal(classified.retryable ?? retryableReasons.has(classified.reason), retryable);
      assert.doesNotMatch(
        classified.message ?? '',
        /KafkaJS/,
        'kafkajs class names do not leak into messages',
      );
    });
  }
});
