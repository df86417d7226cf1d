import { setTimeout as sleep } from 'node:timers/promises';
import type { Counter } from 'prom-client';
import type { HealthResult } from '../../ports/component.ts';
import type {
  BrokerAdapter,
  BrokerOperation,
  DeliveredRecord,
  MessageHandler,
  PayloadEncoding,
  ReceivedMessage,
  Subscription,
} from '../../ports/broker.ts';
import { redactCredentials } from '../../ports/redacted.ts';
import type { StandardSchemaV1 } from '../../ports/standard-schema.ts';
import { backoffDelayMs, type BackoffPolicy } from '../guard/backoff.ts';
import { decodePayload, type BrokerMessageEncoder } from './encoding.ts';
import { brokerHeaders } from './headers.ts';
import type { PublishGathering } from './publish-gathering.ts';
import type { HandlerTelemetry } from './tracing.ts';
import { HandlerSlot } from './handler-slot.ts';
import { SupervisedConsumer, type RestartLimits } from './supervision.ts';
import type { Guard } from '../guard/guard.ts';
import { attributes } from '../telemetry/semconv.ts';

const maxErrorHeaderLength = 1_000;

/** One subscription's options, checked and with defaults applied. */
export interface ConsumerSettings<T> {
  topic: string;
  group: string;
  concurrency: number;
  schema: StandardSchemaV1<unknown, T> | undefined;
  maxAttempts: number;
  deadLetterTopic: string;
  fromBeginning: boolean;
  encoding: PayloadEncoding;
  handlerTimeoutMs: number;
  retryBackoff: BackoffPolicy;
  readyTimeoutMs: number;
  /** Spans and the duration metric of each handler attempt; told when an attempt ends. */
  telemetry?: HandlerTelemetry | undefined;
}

export interface SubscriptionHealth {
  status: HealthResult['status'];
  details: Record<string, unknown>;
}

/** A subscription as its broker lists it: for health, and to close with the broker. */
export interface ListedSubscription {
  readonly topic: string;
  readonly group: string;
  health(): SubscriptionHealth;
  close(): Promise<void>;
}

/** What the subscriptions of one broker share. */
export interface SubscriptionContext {
  guard: Guard<BrokerOperation>;
  adapter: BrokerAdapter;
  encoder: BrokerMessageEncoder;
  /** Where dead letters are published. */
  publisher: PublishGathering;
  /** Messages handled, by outcome. */
  consumed: Counter;
  /** The broker's open subscriptions; one leaves the set once closed. */
  subscriptions: Set<ListedSubscription>;
  /** How long `close()` lets in-flight handlers run before aborting them. */
  closeTimeoutMs: number;
  /** A batch in progress longer than this marks the subscription as stalled. */
  stallAfterMs: number;
  restartLimits: RestartLimits;
}

/** The id a handler sees: the message's own id header, else its place in the topic. */
function messageId(topic: string, record: DeliveredRecord): string {
  return record.headers[brokerHeaders.id] ?? `${topic}@${record.position}`;
}

/**
 * A supervised consumer and what it does with each batch: decoding and schema checks,
 * concurrent lanes that keep each key in order, retries with backoff, dead-lettering, and a
 * graceful close that aborts handlers still running after the close timeout.
 */
export class ManagedSubscription<T> implements Subscription, ListedSubscription {
  readonly topic: string;
  readonly group: string;
  readonly ready: Promise<void>;
  #batchStartedAt: number | undefined = undefined;
  readonly #context: SubscriptionContext;
  readonly #settings: ConsumerSettings<T>;
  readonly #handler: MessageHandler<T>;
  readonly #consumer: SupervisedConsumer;
  readonly #hardStop = new AbortController();
  /** The handler slots of the batch in progress, whose signals a hard stop aborts. */
  readonly #slots = new Set<HandlerSlot>();
  // Counted per message, added to the metric once per batch: a labelled inc costs a label hash.
  readonly #counts = { acked: 0, deadLettered: 0 };
  #closing: Promise<void> | undefined = undefined;
  // Set when close() begins: lanes take no new record, and the batch commits what was handled.
  #draining = false;
  readonly #skipped = new Set<DeliveredRecord>();

  constructor(context: SubscriptionContext, settings: ConsumerSettings<T>, handler: MessageHandler<T>) {
    this.topic = settings.topic;
    this.group = settings.group;
    this.#context = context;
    this.#settings = settings;
    this.#handler = handler;
    this.#consumer = new SupervisedConsumer(
      context.guard,
      context.adapter,
      {
        topic: this.topic,
        group: this.group,
        fromBeginning: settings.fromBeginning,
        process: (records) => this.#processBatch(records),
      },
      context.restartLimits,
      settings.readyTimeoutMs,
    );
    this.ready = this.#consumer.ready;
  }

  async #processBatch(records: readonly DeliveredRecord[]): Promise<number> {
    this.#batchStartedAt = Date.now();
    try {
      await this.#handleBatch(records);
      if (this.#skipped.size === 0) return records.length;
      // Batches of several partitions run at once: each reads and removes its own records only.
      const firstSkipped = records.findIndex((record) => this.#skipped.has(record));
      for (const record of records) this.#skipped.delete(record);
      return firstSkipped < 0 ? records.length : firstSkipped;
    } finally {
      this.#batchStartedAt = undefined;
      this.#flushCounts();
    }
  }

  async #handleBatch(records: readonly DeliveredRecord[]): Promise<void> {
    // One lane: the batch's own order already keeps every key in order.
    if (this.#settings.concurrency === 1) return await this.#onLane([records]);
    // One chain per key keeps each key in order; keyless records are independent.
    const chains = new Map<string | DeliveredRecord, DeliveredRecord[]>();
    for (const record of records) {
      const chainKey = record.key ?? record;
      const chain = chains.get(chainKey);
      if (chain) chain.push(record);
      else chains.set(chainKey, [record]);
    }
    const queue = [...chains.values()];
    await Promise.all(
      Array.from({ length: Math.min(this.#settings.concurrency, queue.length) }, () => this.#onLane(queue)),
    );
  }

  /** A lane takes chains from `queue` until it is empty and handles each chain's records in order. */
  async #onLane(queue: (readonly DeliveredRecord[])[]): Promise<void> {
    const slot = new HandlerSlot(this.#settings.handlerTimeoutMs);
    this.#slots.add(slot);
    try {
      for (let chain = queue.shift(); chain !== undefined; chain = queue.shift()) {
        await this.#handleInOrder(chain, slot);
      }
    } finally {
      this.#slots.delete(slot);
    }
  }

  // The first attempt of each record runs inline here, not in a function of its own: an
  // async call per message is a measurable share of consuming. Retries go to #retry.
  async #handleInOrder(records: readonly DeliveredRecord[], slot: HandlerSlot): Promise<void> {
    const settings = this.#settings;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      if (this.#draining) {
        for (const rest of records.slice(i)) this.#skipped.add(rest);
        return;
      }
      let message: ReceivedMessage<T>;
      try {
        let value = decodePayload(record.value, settings.encoding);
        if (settings.schema !== undefined)
          value = await this.#context.encoder.validate('consume', settings.schema, value);
        message = {
          value: value as T,
          key: record.key,
          headers: record.headers,
          id: messageId(settings.topic, record),
          topic: settings.topic,
          attempt: 1,
        };
      } catch (error) {
        await this.#deadLetter(record, error, 0);
        continue;
      }
      this.#checkOpen();
      slot.arm();
      const startedAt = performance.now();
      let failure: unknown = undefined;
      try {
        await this.#handler(message, slot.signal());
      } catch (error) {
        failure = error ?? new Error('handler threw nothing');
      }
      failure = this.#endAttempt(slot, failure, message, startedAt);
      if (failure === undefined) this.#counts.acked++;
      else await this.#retry(record, message, slot, failure);
    }
  }

  /** Attempts after the first, with backoff, until one succeeds or the record is dead-lettered. */
  async #retry(
    record: DeliveredRecord,
    message: ReceivedMessage<T>,
    slot: HandlerSlot,
    firstFailure: unknown,
  ): Promise<void> {
    const settings = this.#settings;
    let failure = firstFailure;
    for (let attempt = 2; ; attempt++) {
      this.#checkOpen();
      if (attempt > settings.maxAttempts) return this.#deadLetter(record, failure, attempt - 1);
      this.#context.guard.logger.debug(
        { err: failure, topic: settings.topic, id: message.id, attempt: attempt - 1 },
        'handler failed, retrying',
      );
      await sleep(backoffDelayMs(settings.retryBackoff, attempt - 2), undefined, {
        signal: this.#hardStop.signal,
      }).catch(() => undefined);
      this.#checkOpen();
      message.attempt = attempt;
      slot.arm();
      const startedAt = performance.now();
      failure = undefined;
      try {
        await this.#handler(message, slot.signal());
      } catch (error) {
        failure = error ?? new Error('handler threw nothing');
      }
      failure = this.#endAttempt(slot, failure, message, startedAt);
      if (failure === undefined) {
        this.#counts.acked++;
        return;
      }
    }
  }

  /** The attempt's failure, or undefined when it succeeded in time: a handler that outlived its deadline saw its signal abort, so its work counts as not done. */
  #endAttempt(slot: HandlerSlot, failure: unknown, message: ReceivedMessage<T>, startedAt: number): unknown {
    slot.disarm();
    const outcome =
      slot.reset() && failure === undefined
        ? this.#context.guard.error(
            'timeout',
            'consume',
            `handler did not finish within ${this.#settings.handlerTimeoutMs} ms`,
          )
        : failure;
    this.#settings.telemetry?.ended(message, outcome, startedAt);
    return outcome;
  }

  #flushCounts(): void {
    const labels = {
      [attributes.component]: this.#context.guard.id,
      [attributes.messagingDestinationName]: this.topic,
      [attributes.messagingConsumerGroupName]: this.group,
    };
    const consumed = this.#context.consumed;
    if (this.#counts.acked > 0)
      consumed.inc({ ...labels, [attributes.outcome]: 'acked' }, this.#counts.acked);
    if (this.#counts.deadLettered > 0)
      consumed.inc({ ...labels, [attributes.outcome]: 'dead_lettered' }, this.#counts.deadLettered);
    this.#counts.acked = this.#counts.deadLettered = 0;
  }

  #checkOpen(): void {
    if (this.#hardStop.signal.aborted)
      throw this.#context.guard.error('closed', 'consume', 'subscription closed before the handler finished');
  }

  async #deadLetter(record: DeliveredRecord, error: unknown, attempts: number): Promise<void> {
    const settings = this.#settings;
    const reason = redactCredentials(error instanceof Error ? error.message : String(error)).slice(
      0,
      maxErrorHeaderLength,
    );
    const id = messageId(settings.topic, record);
    this.#context.guard.logger.warn(
      { topic: settings.topic, deadLetterTopic: settings.deadLetterTopic, id, attempts },
      'message dead-lettered',
    );
    const { partition, offset } = record;
    await this.#context.publisher.publish(settings.deadLetterTopic, [
      {
        key: record.key,
        value: record.value,
        headers: {
          ...record.headers,
          // A message from another producer had no id: its dead letter keeps the one its handler saw.
          [brokerHeaders.id]: id,
          [brokerHeaders.error]: reason,
          [brokerHeaders.attempts]: String(attempts),
          [brokerHeaders.originalTopic]: settings.topic,
          [brokerHeaders.originalPosition]: record.position,
          ...(partition === undefined || offset === undefined
            ? {}
            : {
                [brokerHeaders.originalPartition]: String(partition),
                [brokerHeaders.originalOffset]: offset,
              }),
          [brokerHeaders.deadLetteredAt]: new Date().toISOString(),
        },
      },
    ]);
    this.#counts.deadLettered++;
  }

  health(): SubscriptionHealth {
    const state = this.#consumer.state;
    const stalled =
      this.#batchStartedAt !== undefined && Date.now() - this.#batchStartedAt > this.#context.stallAfterMs;
    const down = state.kind === 'failed' || stalled || this.#consumer.down;
    const status = down ? 'down' : state.kind === 'running' ? 'up' : 'degraded';
    return {
      status,
      details: {
        topic: this.topic,
        group: this.group,
        state: state.kind,
        ...(stalled ? { stalled: true } : {}),
        ...(state.kind === 'failed' ? { error: state.error } : {}),
        ...(state.kind === 'restarting' ? { error: state.lastError } : {}),
      },
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#draining = true;
      const { closeTimeoutMs, guard } = this.#context;
      const hardStop = setTimeout(() => {
        this.#hardStop.abort();
        for (const slot of this.#slots) slot.stop(guard.error('closed', 'consume', 'subscription closed'));
      }, closeTimeoutMs);
      try {
        await this.#consumer.close(closeTimeoutMs + 5_000);
      } finally {
        clearTimeout(hardStop);
        this.#context.subscriptions.delete(this);
      }
    })();
    return this.#closing;
  }
}
