import type { HealthResult } from '../../ports/component.ts';
import {
  brokerOperations,
  type Broker,
  type BrokerOperation,
  type BrokerAdapter,
  type MessageHandler,
  type OutgoingMessage,
  type PublishOptions,
  type SubscribeOptions,
  type Subscription,
} from '../../ports/broker.ts';
import { BrokerMessageEncoder } from './encoding.ts';
import { PublishGathering } from './publish-gathering.ts';
import { BrokerTelemetry } from './tracing.ts';
import { reportConsumerLag } from './consumer-lag.ts';
import {
  ManagedSubscription,
  type ConsumerSettings,
  type ListedSubscription,
  type SubscriptionContext,
} from './subscription.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { counterOn } from '../telemetry/metrics.ts';
import type { Runtime } from '../runtime.ts';
import { messagingClientOperationDuration, messagingHandledMessages } from '../telemetry/semconv.ts';

export interface GuardedBrokerOptions extends GuardedOptions {
  /** How long `close()` lets in-flight handlers run before aborting them. Default 10 s. */
  closeTimeoutMs?: number | undefined;
  /** Consumer restarts allowed per `restartWindowMs` before a subscription is declared failed. Default 5 per minute. */
  maxRestarts?: number | undefined;
  restartWindowMs?: number | undefined;
  /** A batch in progress longer than this marks the subscription as stalled (health down). Default 5 min. */
  stallAfterMs?: number | undefined;
}

const maxRememberedTopics = 1_000;
const groupPattern = /^[A-Za-z0-9._-]{1,200}$/;

const brokerPort: GuardedPort<BrokerOperation> = {
  port: 'broker',
  idPrefix: 'broker',
  operations: brokerOperations,
  metrics: messagingClientOperationDuration,
};

/**
 * Builds the `Broker` port around a backend once for every adapter: validation and encoding
 * before any I/O, in-process retries with backoff, dead-lettering, per-key ordering across
 * concurrent handlers, graceful close, and supervised consumers that show in `health()`.
 */
export function guardBroker(adapter: BrokerAdapter, options: GuardedBrokerOptions, runtime: Runtime): Broker {
  const guard = Guard.forAdapter(brokerPort, adapter, options, runtime);
  const encoder = new BrokerMessageEncoder(guard, adapter.maxRecordBytes);
  const telemetry = new BrokerTelemetry(runtime, adapter.system, guard.id, options.server);
  const publisher = new PublishGathering(guard, adapter, telemetry);
  const subscriptions = new Set<ListedSubscription>();
  const stopLag = reportConsumerLag(runtime.registry, adapter, guard.id, () => subscriptions, guard.logger);
  const context: SubscriptionContext = {
    guard,
    adapter: telemetry.consuming(adapter),
    encoder,
    publisher,
    consumed: counterOn(runtime.registry, messagingHandledMessages),
    subscriptions,
    closeTimeoutMs: options.closeTimeoutMs ?? 10_000,
    stallAfterMs: options.stallAfterMs ?? 300_000,
    restartLimits: {
      maxRestarts: options.maxRestarts ?? 5,
      restartWindowMs: options.restartWindowMs ?? 60_000,
    },
  };

  // Names that passed, so a hot topic is not matched against the backend's rule on every publish.
  const validTopics = new Set<string>();
  const checkTopic = (operation: string, topic: unknown, path = 'topic'): string => {
    if (validTopics.has(topic as string)) return topic as string;
    const problem =
      typeof topic !== 'string' || topic.length === 0
        ? 'must be a non-empty string'
        : adapter.checkTopic(topic);
    if (problem !== undefined) throw guard.invalid(operation, path, problem);
    if (validTopics.size >= maxRememberedTopics) validTopics.clear();
    validTopics.add(topic as string);
    return topic as string;
  };

  const broker: Broker = {
    id: guard.id,
    publish<T>(
      topic: string,
      messages: OutgoingMessage<T> | readonly OutgoingMessage<T>[],
      opts?: PublishOptions<T>,
    ): Promise<void> {
      try {
        checkTopic('publish', topic);
        const encoding = opts?.encoding ?? 'json';
        const schema = opts?.schema;
        // One message without a schema, the common call: no arrays around it.
        if (schema === undefined && !Array.isArray(messages)) {
          const message = messages as OutgoingMessage<T>;
          return publisher.publish(
            topic,
            telemetry.created(topic, [encoder.encode('publish', message, message?.value, encoding)]),
            opts,
          );
        }
        const list = Array.isArray(messages)
          ? (messages as readonly OutgoingMessage<T>[])
          : [messages as OutgoingMessage<T>];
        if (list.length === 0) return Promise.resolve();
        for (const message of list) {
          if (typeof message !== 'object' || message === null) {
            throw guard.invalid('publish', 'message', 'must be an object');
          }
        }
        // Without a schema nothing here awaits, so the call costs no extra promise on the hot path.
        if (schema === undefined) {
          const records = list.map((message) => encoder.encode('publish', message, message.value, encoding));
          return publisher.publish(topic, telemetry.created(topic, records), opts);
        }
        return Promise.all(list.map((message) => encoder.validate('publish', schema, message.value))).then(
          (values) =>
            publisher.publish(
              topic,
              telemetry.created(
                topic,
                list.map((message, i) => encoder.encode('publish', message, values[i], encoding)),
              ),
              opts,
            ),
        );
      } catch (error) {
        return Promise.reject(error);
      }
    },
    subscribe<T>(topic: string, handler: MessageHandler<T>, opts: SubscribeOptions<T>): Subscription {
      checkTopic('subscribe', topic);
      if (guard.closed) throw guard.error('closed', 'subscribe', 'component is closed');
      if (typeof handler !== 'function') throw guard.invalid('subscribe', 'handler', 'must be a function');
      if (typeof opts?.group !== 'string' || !groupPattern.test(opts.group)) {
        throw guard.invalid(
          'subscribe',
          'group',
          'must be 1 to 200 letters, digits, dots, underscores or dashes',
        );
      }
      const positive = (name: string, value: number | undefined, fallback: number, max: number): number => {
        if (value === undefined) return fallback;
        if (!Number.isSafeInteger(value) || value < 1 || value > max) {
          throw guard.invalid('subscribe', name, `must be an integer from 1 to ${max}`);
        }
        return value;
      };
      const deadLetterTopic = opts.deadLetterTopic ?? `${topic}.dead-letter`;
      checkTopic('subscribe', deadLetterTopic, 'deadLetterTopic');
      if (deadLetterTopic === topic)
        throw guard.invalid('subscribe', 'deadLetterTopic', 'must differ from the topic');
      const traceContext = opts.traceContext ?? 'parent';
      if (traceContext !== 'parent' && traceContext !== 'link')
        throw guard.invalid('subscribe', 'traceContext', 'must be "parent" or "link"');
      const handlerTelemetry = telemetry.subscription(topic, opts.group, traceContext);
      const retryDelay = opts.retryDelayMs ?? { initial: 100, max: 5_000 };
      const settings: ConsumerSettings<T> = {
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
        telemetry: handlerTelemetry,
      };
      const subscription = new ManagedSubscription<T>(context, settings, handlerTelemetry.wrap(handler));
      subscriptions.add(subscription);
      return subscription;
    },
    async health(signal?: AbortSignal): Promise<HealthResult> {
      const result = await guard.health((probeSignal) => adapter.probe(probeSignal), signal);
      const consumers = [...subscriptions].map((subscription) => subscription.health());
      const worst = consumers.some((c) => c.status === 'down')
        ? 'down'
        : consumers.some((c) => c.status === 'degraded')
          ? 'degraded'
          : 'up';
      const status =
        result.status === 'down' || worst === 'down'
          ? 'down'
          : result.status === 'degraded' || worst === 'degraded'
            ? 'degraded'
            : 'up';
      return {
        ...result,
        status,
        details: {
          ...result.details,
          subscriptions: consumers.map((c) => ({ status: c.status, ...c.details })),
        },
      };
    },
    async close(): Promise<void> {
      stopLag?.();
      publisher.flush(); // publishes made before close() go out, as if no gathering happened
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      await guard.close(() => adapter.close());
    },
    [Symbol.asyncDispose](): Promise<void> {
      return broker.close();
    },
  };
  return broker;
}
