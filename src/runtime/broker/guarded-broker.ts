import type { HealthResult } from '../../ports/component.ts';
import {
  brokerPort as brokerPortDefinition,
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
import { ManagedSubscription, type ListedSubscription, type SubscriptionContext } from './subscription.ts';
import { subscribeSettings } from './subscribe-settings.ts';
import { TopicNames } from './topic-names.ts';
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

const brokerPort: GuardedPort<BrokerOperation> = {
  port: brokerPortDefinition.name,
  idPrefix: brokerPortDefinition.idPrefix,
  operations: brokerPortDefinition.operations,
  metrics: messagingClientOperationDuration,
};

/**
 * Builds the `Broker` port around a backend once for every adapter: validation and encoding
 * before any I/O, in-process retries with backoff, dead-lettering, per-key ordering across
 * concurrent handlers, graceful close, and supervised consumers that show in `health()`.
 */
export function guardBroker(adapter: BrokerAdapter, options: GuardedBrokerOptions, runtime: Runtime): Broker {
  return new GuardedBroker(
    Guard.forAdapter(brokerPort, adapter, options, runtime),
    adapter,
    options,
    runtime,
  );
}

// Own fields, not prototype methods: a port is a record of functions that `{ ...port }` copies whole.
class GuardedBroker implements Broker {
  readonly id: string;
  readonly #guard: Guard<BrokerOperation>;
  readonly #adapter: BrokerAdapter;
  readonly #encoder: BrokerMessageEncoder;
  readonly #telemetry: BrokerTelemetry;
  readonly #publisher: PublishGathering;
  readonly #topics: TopicNames;
  readonly #subscriptions = new Set<ListedSubscription>();
  readonly #context: SubscriptionContext;
  readonly #stopLag: (() => void) | undefined;

  constructor(
    guard: Guard<BrokerOperation>,
    adapter: BrokerAdapter,
    options: GuardedBrokerOptions,
    runtime: Runtime,
  ) {
    this.id = guard.id;
    this.#guard = guard;
    this.#adapter = adapter;
    this.#encoder = new BrokerMessageEncoder(guard, adapter.maxRecordBytes);
    this.#telemetry = new BrokerTelemetry(runtime, adapter.system, guard.id, options.server);
    this.#publisher = new PublishGathering(guard, adapter, this.#telemetry);
    this.#topics = new TopicNames(guard, adapter);
    const subscriptions = this.#subscriptions;
    this.#stopLag = reportConsumerLag(runtime.registry, adapter, guard.id, () => subscriptions, guard.logger);
    this.#context = {
      guard,
      adapter: this.#telemetry.consuming(adapter),
      encoder: this.#encoder,
      publisher: this.#publisher,
      consumed: counterOn(runtime.registry, messagingHandledMessages),
      subscriptions,
      closeTimeoutMs: options.closeTimeoutMs ?? 10_000,
      stallAfterMs: options.stallAfterMs ?? 300_000,
      restartLimits: {
        maxRestarts: options.maxRestarts ?? 5,
        restartWindowMs: options.restartWindowMs ?? 60_000,
      },
    };
  }

  readonly publish = <T>(
    topic: string,
    messages: OutgoingMessage<T> | readonly OutgoingMessage<T>[],
    opts?: PublishOptions<T>,
  ): Promise<void> => {
    try {
      this.#topics.check('publish', topic);
      const encoding = opts?.encoding ?? 'json';
      // One message without a schema, the common call: no arrays around it.
      if (opts?.schema === undefined && !Array.isArray(messages)) {
        const message = messages as OutgoingMessage<T>;
        const record = this.#encoder.encode('publish', message, message?.value, encoding);
        return this.#publisher.publish(topic, this.#telemetry.created(topic, [record]), opts);
      }
      return this.#publishList(topic, Array.isArray(messages) ? messages : [messages], opts);
    } catch (error) {
      return Promise.reject(error);
    }
  };

  readonly subscribe = <T>(
    topic: string,
    handler: MessageHandler<T>,
    opts: SubscribeOptions<T>,
  ): Subscription => {
    const settings = subscribeSettings(this.#guard, this.#topics, this.#telemetry, { topic, handler, opts });
    const subscription = new ManagedSubscription<T>(
      this.#context,
      settings,
      settings.telemetry.wrap(settings.handler),
    );
    this.#subscriptions.add(subscription);
    return subscription;
  };

  readonly health = async (signal?: AbortSignal): Promise<HealthResult> => {
    const result = await this.#guard.health((probeSignal) => this.#adapter.probe(probeSignal), signal);
    const consumers = [...this.#subscriptions].map((subscription) => subscription.health());
    return {
      ...result,
      status: worstOf([result.status, ...consumers.map((c) => c.status)]),
      details: {
        ...result.details,
        subscriptions: consumers.map((c) => ({ status: c.status, ...c.details })),
      },
    };
  };

  readonly close = async (): Promise<void> => {
    this.#stopLag?.();
    this.#publisher.flush(); // publishes made before close() go out, as if no gathering happened
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
    await this.#guard.close(() => this.#adapter.close());
  };

  readonly [Symbol.asyncDispose] = (): Promise<void> => this.close();

  #publishList<T>(
    topic: string,
    list: readonly OutgoingMessage<T>[],
    opts: PublishOptions<T> | undefined,
  ): Promise<void> {
    if (list.length === 0) return Promise.resolve();
    for (const message of list) {
      if (typeof message !== 'object' || message === null) {
        throw this.#guard.invalid('publish', 'message', 'must be an object');
      }
    }
    const encoding = opts?.encoding ?? 'json';
    const schema = opts?.schema;
    const encoder = this.#encoder;
    // Without a schema nothing here awaits, so the call costs no extra promise on the hot path.
    if (schema === undefined) {
      const records = list.map((message) => encoder.encode('publish', message, message.value, encoding));
      return this.#publisher.publish(topic, this.#telemetry.created(topic, records), opts);
    }
    return Promise.all(list.map((message) => encoder.validate('publish', schema, message.value))).then(
      (values) =>
        this.#publisher.publish(
          topic,
          this.#telemetry.created(
            topic,
            list.map((message, i) => encoder.encode('publish', message, values[i], encoding)),
          ),
          opts,
        ),
    );
  }
}

const severity = { up: 0, degraded: 1, down: 2 } as const;

function worstOf(statuses: readonly HealthResult['status'][]): HealthResult['status'] {
  return statuses.reduce((worst, status) => (severity[status] > severity[worst] ? status : worst), 'up');
}
