import type { BrokerOperation, MessageHandler, SubscribeOptions } from '../../ports/broker.ts';
import type { Guard } from '../guard/guard.ts';
import { behindMiddleware } from './handler-middleware.ts';
import type { ConsumerSettings } from './subscription.ts';
import type { TopicNames } from './topic-names.ts';
import type { BrokerTelemetry, HandlerTelemetry } from './tracing.ts';

const groupPattern = /^[A-Za-z0-9._-]{1,200}$/;

/** The settings of one subscription, every option checked before a consumer starts. */
export function subscribeSettings<T>(
  guard: Guard<BrokerOperation>,
  topics: TopicNames,
  telemetry: BrokerTelemetry,
  subscription: { topic: string; handler: MessageHandler<T>; opts: SubscribeOptions<T> },
): ConsumerSettings<T> & { telemetry: HandlerTelemetry; handler: MessageHandler<T> } {
  const { topic, handler, opts } = subscription;
  topics.check('subscribe', topic);
  if (guard.closed) throw guard.error('closed', 'subscribe', 'component is closed');
  if (typeof handler !== 'function') throw guard.invalid('subscribe', 'handler', 'must be a function');
  if (typeof opts?.group !== 'string' || !groupPattern.test(opts.group)) {
    throw guard.invalid(
      'subscribe',
      'group',
      'must be 1 to 200 letters, digits, dots, underscores or dashes',
    );
  }
  const positive = (name: string, value: number | undefined, fallback: number, max: number): number =>
    positiveOption(guard, name, value, fallback, max);
  const deadLetterTopic = opts.deadLetterTopic ?? `${topic}.dead-letter`;
  topics.check('subscribe', deadLetterTopic, 'deadLetterTopic');
  if (deadLetterTopic === topic)
    throw guard.invalid('subscribe', 'deadLetterTopic', 'must differ from the topic');
  const traceContext = opts.traceContext ?? 'parent';
  if (traceContext !== 'parent' && traceContext !== 'link')
    throw guard.invalid('subscribe', 'traceContext', 'must be "parent" or "link"');
  const retryDelay = opts.retryDelayMs ?? { initial: 100, max: 5_000 };
  const middleware = opts.middleware ?? [];
  if (!Array.isArray(middleware) || middleware.some((m) => typeof m !== 'function'))
    throw guard.invalid('subscribe', 'middleware', 'must be an array of functions');
  return {
    handler: behindMiddleware(middleware, handler),
    topic,
    group: opts.group,
    concurrency: positive('concurrency', opts.concurrency, 1, 1_000),
    schema: opts.schema,
    maxAttempts: positive('maxAttempts', opts.maxAttempts, 3, 100),
    deadLetterTopic,
    fromBeginning: opts.fromBeginning ?? false,
    encoding: opts.encoding ?? 'json',
    handlerTimeoutMs: positive('handlerTimeoutMs', opts.handlerTimeoutMs, 30_000, 86_400_000),
    retryBackoff: {
      initialDelayMs: positive('retryDelayMs.initial', retryDelay.initial, 100, 3_600_000),
      maxDelayMs: positive('retryDelayMs.max', retryDelay.max, 5_000, 3_600_000),
      jitter: 'half',
    },
    readyTimeoutMs: positive('readyTimeoutMs', opts.readyTimeoutMs, 15_000, 86_400_000),
    telemetry: telemetry.subscription(topic, opts.group, traceContext),
  };
}

function positiveOption(
  guard: Guard<BrokerOperation>,
  name: string,
  value: number | undefined,
  fallback: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw guard.invalid('subscribe', name, `must be an integer from 1 to ${max}`);
  }
  return value;
}
