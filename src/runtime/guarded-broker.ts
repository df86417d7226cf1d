import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter } from 'prom-client';
import type { HealthResult } from '../ports/component.ts';
import {
  brokerOperations,
  type Broker,
  type BrokerAdapter,
  type BrokerRecord,
  type DeliveredRecord,
  type MessageHandler,
  type OutgoingMessage,
  type PayloadEncoding,
  type PublishOptions,
  type ReceivedMessage,
  type SubscribeOptions,
  type Subscription,
} from '../ports/broker.ts';
import { InfraError, isInfraError, type ErrorReason } from '../ports/errors.ts';
import { redactCredentials } from '../ports/redacted.ts';
import type { StandardSchemaV1 } from '../ports/standard-schema.ts';
import { deadlineScheduler, type PendingOperation } from './deadline-scheduler.ts';
import { Guard } from './guard.ts';
import { toJson } from './json-codec.ts';
import type { PolicyOverrides, Runtime } from './runtime.ts';

export interface GuardedBrokerOptions {
  id?: string | undefined;
  policies?: PolicyOverrides | undefined;
  /** How long `close()` lets in-flight handlers run before aborting them. Default 10 s. */
  closeTimeoutMs?: number | undefined;
  /** Consumer restarts allowed per `restartWindowMs` before a subscription is declared failed. Default 5 per minute. */
  maxRestarts?: number | undefined;
  restartWindowMs?: number | undefined;
  /** A batch in progress longer than this marks the subscription as stalled (health down). Default 5 min. */
  stallAfterMs?: number | undefined;
}

/** Headers berth sets; the `x-berth-` prefix is reserved. */
export const brokerHeaders = {
  id: 'x-berth-id',
  error: 'x-berth-error',
  attempts: 'x-berth-attempts',
  originalTopic: 'x-berth-original-topic',
  deadLetteredAt: 'x-berth-dead-lettered-at',
} as const;

/** Records gathered for one topic, and the one promise every caller that added to them awaits. */
interface GatheredPublish {
  records: BrokerRecord[];
  sent: PromiseWithResolvers<void>;
}

const maxRememberedTopics = 1_000;
// Records of one shared publish call at most; more go in a call of their own at once.
const maxGatheredRecords = 1_000;

// toString() without arguments is UTF-8 and skips Node's encoding lookup.
function utf8(bytes: Uint8Array): string {
  return Buffer.isBuffer(bytes)
    ? bytes.toString()
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString();
}

const permanentReasons: ReadonlySet<ErrorReason> = new Set([
  'config',
  'unauthorized',
  'validation',
  'not_found',
]);

const groupPattern = /^[A-Za-z0-9._-]{1,200}$/;
const maxErrorHeaderLength = 1_000;

type SubscriptionState =
  | { kind: 'starting' }
  | { kind: 'running' }
  | { kind: 'restarting'; since: number; lastError: string }
  | { kind: 'failed'; error: string }
  | { kind: 'closed' };

interface ConsumerSettings<T> {
  topic: string;
  group: string;
  concurrency: number;
  schema: StandardSchemaV1<unknown, T> | undefined;
  maxAttempts: number;
  deadLetterTopic: string;
  fromBeginning: boolean;
  encoding: PayloadEncoding;
  handlerTimeoutMs: number;
  retryDelayMs: { initial: number; max: number };
}

/**
 * One of a batch's concurrent handler lanes. Its AbortController is shared by the lane's
 * attempts and replaced only after it was aborted, so a message does not cost a controller.
 */
class HandlerSlot {
  #controller = new AbortController();
  #timedOut = false;
  /** Called by the deadline scheduler when the attempt in progress runs out of time. */
  readonly expire: () => void;

  constructor(timeoutMs: number) {
    this.expire = () => {
      this.#timedOut = true;
      this.#controller.abort(
        new InfraError('timeout', `handler did not finish within ${timeoutMs} ms`, { port: 'broker' }),
      );
    };
  }

  signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** After an attempt: whether it timed out; an aborted signal is replaced for the next one. */
  reset(): boolean {
    const timedOut = this.#timedOut;
    this.#timedOut = false;
    if (this.#controller.signal.aborted) this.#controller = new AbortController();
    return timedOut;
  }

  stop(reason: unknown): void {
    this.#controller.abort(reason);
  }
}

/**
 * Builds the `Broker` port around a backend once for every adapter: validation and encoding
 * before any I/O, in-process retries with backoff, dead-lettering, per-key ordering across
 * concurrent handlers, graceful close, and supervised consumers that show in `health()`.
 */
export function guardBroker(adapter: BrokerAdapter, options: GuardedBrokerOptions, runtime: Runtime): Broker {
  const guard = new Guard(
    {
      id: options.id ?? `broker:${adapter.system}`,
      port: 'broker',
      system: adapter.system,
      operations: brokerOperations,
      classifyError: (error) => adapter.classifyError(error),
      semconv: 'messaging',
      policies: options.policies,
    },
    runtime,
  );
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  const maxRestarts = options.maxRestarts ?? 5;
  const restartWindowMs = options.restartWindowMs ?? 60_000;
  const stallAfterMs = options.stallAfterMs ?? 300_000;
  const consumed =
    (runtime.registry.getSingleMetric('messaging_client_consumed_messages_total') as Counter | undefined) ??
    new Counter({
      name: 'messaging_client_consumed_messages_total',
      help: 'Messages handled by subscriptions, by outcome (acked, dead_lettered).',
      labelNames: ['component', 'messaging_destination_name', 'messaging_consumer_group_name', 'outcome'],
      registers: [runtime.registry],
    });
  const subscriptions = new Set<{
    health(): { status: HealthResult['status']; details: Record<string, unknown> };
    close(): Promise<void>;
  }>();

  // Names that passed, so a hot topic is not matched against the backend's rule on every publish.
  const validTopics = new Set<string>();
  const checkTopic = (operation: string, topic: unknown): string => {
    if (validTopics.has(topic as string)) return topic as string;
    const problem =
      typeof topic !== 'string' || topic.length === 0
        ? 'must be a non-empty string'
        : adapter.checkTopic(topic);
    if (problem !== undefined) throw guard.error('validation', operation, `topic ${problem}`);
    if (validTopics.size >= maxRememberedTopics) validTopics.clear();
    validTopics.add(topic as string);
    return topic as string;
  };

  const unserializable = (cause?: unknown): Error =>
    guard.error('validation', 'publish', 'value is not serializable as JSON', { cause });

  // Synchronous: an async function per message costs a promise each on the publish path.
  function encode<T>(
    operation: string,
    message: OutgoingMessage<T>,
    value: unknown,
    encoding: PayloadEncoding,
  ): BrokerRecord {
    if (typeof message !== 'object' || message === null)
      throw guard.error('validation', operation, 'a message must be an object');
    if (message.key !== undefined && typeof message.key !== 'string')
      throw guard.error('validation', operation, 'key must be a string');
    if (message.id !== undefined && (typeof message.id !== 'string' || message.id.length === 0)) {
      throw guard.error('validation', operation, 'id must be a non-empty string');
    }
    const headers: Record<string, string> = {};
    let headerBytes = 0;
    if (message.headers !== undefined) {
      for (const name in message.headers) {
        const header = message.headers[name];
        if (typeof header !== 'string')
          throw guard.error('validation', operation, `header ${name} must be a string`);
        headers[name] = header;
        headerBytes += name.length + Buffer.byteLength(header);
      }
    }
    const id = message.id ?? randomUUID();
    headers[brokerHeaders.id] = id;
    headerBytes += brokerHeaders.id.length + Buffer.byteLength(id);
    let bytes: Uint8Array;
    if (encoding === 'bytes') {
      if (!(value instanceof Uint8Array))
        throw guard.error('validation', operation, 'value must be a Uint8Array with encoding "bytes"');
      bytes = value;
    } else {
      bytes = Buffer.from(toJson(value, unserializable));
    }
    const size =
      bytes.byteLength + (message.key === undefined ? 0 : Buffer.byteLength(message.key)) + headerBytes;
    if (size > adapter.maxRecordBytes) {
      throw guard.error(
        'validation',
        operation,
        `message of ${size} bytes exceeds the limit of ${adapter.maxRecordBytes}`,
      );
    }
    return { key: message.key, value: bytes, headers };
  }

  async function validate<T>(
    operation: string,
    schema: StandardSchemaV1<unknown, T>,
    value: unknown,
  ): Promise<T> {
    const result = await schema['~standard'].validate(value);
    if (result.issues === undefined) return result.value;
    const detail = result.issues
      .slice(0, 5)
      .map(
        (issue) =>
          `${(issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.') || '(value)'}: ${issue.message}`,
      )
      .join('; ');
    throw guard.error('validation', operation, `message does not match its schema: ${detail}`);
  }

  function publishRecords(
    topic: string,
    records: readonly BrokerRecord[],
    options?: PublishOptions,
  ): Promise<void> {
    // A call with a deadline or a signal of its own goes alone; the rest share a guarded call.
    if (options?.signal !== undefined || options?.timeoutMs !== undefined)
      return guard.run('publish', options, (ctx) => adapter.publish(topic, records, ctx));
    return gather(topic, records);
  }

  // Publishes to one topic within one turn of the event loop share one guarded call: a
  // deadline, a breaker check and a metric per message cost more than encoding it. A failure
  // of that call is every caller's failure, as it would be within one backend batch.
  const gathering = new Map<string, GatheredPublish>();
  let gatherScheduled = false;

  // Callers of one batch share its promise: a promise per message would cost more than the rest.
  function gather(topic: string, records: readonly BrokerRecord[]): Promise<void> {
    let batch = gathering.get(topic);
    if (batch === undefined) {
      batch = { records: [], sent: Promise.withResolvers<void>() };
      gathering.set(topic, batch);
    }
    for (const record of records) batch.records.push(record);
    if (batch.records.length >= maxGatheredRecords) {
      gathering.delete(topic);
      sendGathered(topic, batch);
    } else if (!gatherScheduled) {
      gatherScheduled = true;
      setImmediate(sendAllGathered);
    }
    return batch.sent.promise;
  }

  function sendAllGathered(): void {
    gatherScheduled = false;
    for (const [topic, batch] of gathering) sendGathered(topic, batch);
    gathering.clear();
  }

  function sendGathered(topic: string, batch: GatheredPublish): void {
    guard
      .run('publish', undefined, (ctx) => adapter.publish(topic, batch.records, ctx))
      .then(batch.sent.resolve, batch.sent.reject);
  }

  class ManagedSubscription<T> implements Subscription {
    readonly topic: string;
    readonly group: string;
    readonly ready: Promise<void>;
    state: SubscriptionState = { kind: 'starting' };
    batchStartedAt: number | undefined = undefined;
    readonly #settings: ConsumerSettings<T>;
    readonly #handler: MessageHandler<T>;
    readonly #hardStop = new AbortController();
    /** The handler slots of the batch in progress, whose signals a hard stop aborts. */
    readonly #slots = new Set<HandlerSlot>();
    // Counted per message, added to the metric once per batch: a labelled inc costs a label hash.
    readonly #counts = { acked: 0, deadLettered: 0 };
    readonly #restarts: number[] = [];
    #loop: ReturnType<BrokerAdapter['consumer']>;
    #closing: Promise<void> | undefined = undefined;
    #resolveReady: () => void = () => undefined;
    #rejectReady: (error: unknown) => void = () => undefined;

    constructor(settings: ConsumerSettings<T>, handler: MessageHandler<T>) {
      this.topic = settings.topic;
      this.group = settings.group;
      this.#settings = settings;
      this.#handler = handler;
      this.ready = new Promise<void>((resolve, reject) => {
        this.#resolveReady = resolve;
        this.#rejectReady = reject;
      });
      // A caller that never awaits `ready` must not see an unhandled rejection.
      this.ready.catch(() => undefined);
      this.#loop = this.#createLoop();
      void this.#start();
    }

    #createLoop(): ReturnType<BrokerAdapter['consumer']> {
      return adapter.consumer({
        topic: this.topic,
        group: this.group,
        fromBeginning: this.#settings.fromBeginning,
        process: (records) => this.#processBatch(records),
        onCrash: (error) => void this.#restart(error),
      });
    }

    async #start(): Promise<void> {
      try {
        await this.#loop.start();
        if (this.state.kind === 'closed') return;
        this.state = { kind: 'running' };
        this.#resolveReady();
        guard.logger.info({ topic: this.topic, group: this.group }, 'subscription consuming');
      } catch (error) {
        await this.#restart(error);
      }
    }

    // Supervision: restarts are bounded per window; past that the subscription is failed and health says so.
    async #restart(error: unknown): Promise<void> {
      if (this.state.kind === 'closed' || this.state.kind === 'failed') return;
      const now = Date.now();
      while (this.#restarts.length > 0 && now - this.#restarts[0]! > restartWindowMs) this.#restarts.shift();
      const message = redactCredentials(error instanceof Error ? error.message : String(error));
      // A restart cannot fix a wrong setup or lost history: fail at once and say why.
      if (isInfraError(error) && permanentReasons.has(error.reason)) {
        this.state = { kind: 'failed', error: message };
        guard.logger.error({ err: error, topic: this.topic, group: this.group }, 'subscription failed');
        this.#rejectReady(error);
        await this.#loop.stop().catch(() => undefined);
        return;
      }
      if (this.#restarts.length >= maxRestarts) {
        this.state = { kind: 'failed', error: message };
        guard.logger.error(
          { err: error, topic: this.topic, group: this.group },
          'subscription failed: too many restarts',
        );
        this.#rejectReady(
          guard.error('unavailable', 'subscribe', `consumer failed: ${message}`, { cause: error }),
        );
        await this.#loop.stop().catch(() => undefined);
        return;
      }
      this.#restarts.push(now);
      this.state = { kind: 'restarting', since: now, lastError: message };
      guard.logger.warn({ err: error, topic: this.topic, group: this.group }, 'consumer crashed, restarting');
      await this.#loop.stop().catch(() => undefined);
      await sleep(Math.min(200 * 2 ** (this.#restarts.length - 1), 5_000));
      if (this.state.kind !== 'restarting') return;
      this.#loop = this.#createLoop();
      await this.#start();
    }

    async #processBatch(records: readonly DeliveredRecord[]): Promise<void> {
      this.batchStartedAt = Date.now();
      try {
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
          Array.from({ length: Math.min(this.#settings.concurrency, queue.length) }, () =>
            this.#onLane(queue),
          ),
        );
      } finally {
        this.batchStartedAt = undefined;
        this.#flushCounts();
      }
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
      for (const record of records) {
        let message: ReceivedMessage<T>;
        try {
          let value: unknown =
            settings.encoding === 'bytes' ? record.value : (JSON.parse(utf8(record.value)) as unknown);
          if (settings.schema !== undefined) value = await validate('consume', settings.schema, value);
          message = {
            value: value as T,
            key: record.key,
            headers: record.headers,
            id: record.headers[brokerHeaders.id] ?? `${settings.topic}@${record.position}`,
            topic: settings.topic,
            attempt: 1,
          };
        } catch (error) {
          await this.#deadLetter(record, error, 0);
          continue;
        }
        this.#checkOpen();
        const deadline = deadlineScheduler.add(settings.handlerTimeoutMs, slot.expire);
        let failure: unknown = undefined;
        try {
          await this.#handler(message, slot.signal());
        } catch (error) {
          failure = error ?? new Error('handler threw nothing');
        }
        failure = this.#endAttempt(deadline, slot, failure);
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
        guard.logger.debug(
          { err: failure, topic: settings.topic, id: message.id, attempt: attempt - 1 },
          'handler failed, retrying',
        );
        const delay = Math.min(settings.retryDelayMs.initial * 2 ** (attempt - 2), settings.retryDelayMs.max);
        await sleep(delay * (0.5 + Math.random() / 2), undefined, { signal: this.#hardStop.signal }).catch(
          () => undefined,
        );
        this.#checkOpen();
        message.attempt = attempt;
        const deadline = deadlineScheduler.add(settings.handlerTimeoutMs, slot.expire);
        failure = undefined;
        try {
          await this.#handler(message, slot.signal());
        } catch (error) {
          failure = error ?? new Error('handler threw nothing');
        }
        failure = this.#endAttempt(deadline, slot, failure);
        if (failure === undefined) {
          this.#counts.acked++;
          return;
        }
      }
    }

    /** The attempt's failure, or undefined when it succeeded in time: a handler that outlived its deadline saw its signal abort, so its work counts as not done. */
    #endAttempt(deadline: PendingOperation, slot: HandlerSlot, failure: unknown): unknown {
      deadlineScheduler.remove(deadline);
      if (slot.reset() && failure === undefined) {
        return guard.error(
          'timeout',
          'consume',
          `handler did not finish within ${this.#settings.handlerTimeoutMs} ms`,
        );
      }
      return failure;
    }

    #flushCounts(): void {
      const labels = {
        component: guard.id,
        messaging_destination_name: this.topic,
        messaging_consumer_group_name: this.group,
      };
      if (this.#counts.acked > 0) consumed.inc({ ...labels, outcome: 'acked' }, this.#counts.acked);
      if (this.#counts.deadLettered > 0)
        consumed.inc({ ...labels, outcome: 'dead_lettered' }, this.#counts.deadLettered);
      this.#counts.acked = this.#counts.deadLettered = 0;
    }

    #checkOpen(): void {
      if (this.#hardStop.signal.aborted)
        throw guard.error('closed', 'consume', 'subscription closed before the handler finished');
    }

    async #deadLetter(record: DeliveredRecord, error: unknown, attempts: number): Promise<void> {
      const settings = this.#settings;
      const reason = redactCredentials(error instanceof Error ? error.message : String(error)).slice(
        0,
        maxErrorHeaderLength,
      );
      guard.logger.warn(
        {
          topic: settings.topic,
          deadLetterTopic: settings.deadLetterTopic,
          id: record.headers[brokerHeaders.id],
          attempts,
        },
        'message dead-lettered',
      );
      await publishRecords(settings.deadLetterTopic, [
        {
          key: record.key,
          value: record.value,
          headers: {
            ...record.headers,
            [brokerHeaders.error]: reason,
            [brokerHeaders.attempts]: String(attempts),
            [brokerHeaders.originalTopic]: settings.topic,
            [brokerHeaders.deadLetteredAt]: new Date().toISOString(),
          },
        },
      ]);
      this.#counts.deadLettered++;
    }

    health(): { status: HealthResult['status']; details: Record<string, unknown> } {
      const state = this.state;
      const stalled = this.batchStartedAt !== undefined && Date.now() - this.batchStartedAt > stallAfterMs;
      const status =
        state.kind === 'failed' || stalled ? 'down' : state.kind === 'running' ? 'up' : 'degraded';
      return {
        status,
        details: {
          topic: this.topic,
          group: this.group,
          state: state.kind,
          ...(stalled ? { stalled: true } : {}),
        },
      };
    }

    close(): Promise<void> {
      this.#closing ??= (async () => {
        const wasFailed = this.state.kind === 'failed';
        this.state = { kind: 'closed' };
        this.#rejectReady(guard.error('closed', 'subscribe', 'subscription closed'));
        const hardStop = setTimeout(() => {
          this.#hardStop.abort();
          for (const slot of this.#slots) slot.stop(guard.error('closed', 'consume', 'subscription closed'));
        }, closeTimeoutMs);
        try {
          // A handler that ignores its aborted signal must not hold close() forever.
          const abandon = sleep(closeTimeoutMs + 5_000, 'abandoned' as const, { ref: false });
          if (
            !wasFailed &&
            (await Promise.race([this.#loop.stop().then(() => 'stopped' as const), abandon])) === 'abandoned'
          ) {
            guard.logger.error(
              { topic: this.topic, group: this.group },
              'subscription abandoned: a handler ignored its abort signal',
            );
          }
        } finally {
          clearTimeout(hardStop);
          subscriptions.delete(this);
        }
      })();
      return this.#closing;
    }
  }

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
          return publishRecords(topic, [encode('publish', message, message?.value, encoding)], opts);
        }
        const list = Array.isArray(messages)
          ? (messages as readonly OutgoingMessage<T>[])
          : [messages as OutgoingMessage<T>];
        if (list.length === 0) return Promise.resolve();
        for (const message of list) {
          if (typeof message !== 'object' || message === null) {
            throw guard.error('validation', 'publish', 'a message must be an object');
          }
        }
        // Without a schema nothing here awaits, so the call costs no extra promise on the hot path.
        if (schema === undefined) {
          const records = list.map((message) => encode('publish', message, message.value, encoding));
          return publishRecords(topic, records, opts);
        }
        return Promise.all(list.map((message) => validate('publish', schema, message.value))).then((values) =>
          publishRecords(
            topic,
            list.map((message, i) => encode('publish', message, values[i], encoding)),
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
      if (typeof handler !== 'function')
        throw guard.error('validation', 'subscribe', 'handler must be a function');
      if (typeof opts?.group !== 'string' || !groupPattern.test(opts.group)) {
        throw guard.error(
          'validation',
          'subscribe',
          'group must be 1 to 200 letters, digits, dots, underscores or dashes',
        );
      }
      const positive = (name: string, value: number | undefined, fallback: number, max: number): number => {
        if (value === undefined) return fallback;
        if (!Number.isSafeInteger(value) || value < 1 || value > max) {
          throw guard.error('validation', 'subscribe', `${name} must be an integer from 1 to ${max}`);
        }
        return value;
      };
      const deadLetterTopic = opts.deadLetterTopic ?? `${topic}.dead-letter`;
      checkTopic('subscribe', deadLetterTopic);
      if (deadLetterTopic === topic)
        throw guard.error('validation', 'subscribe', 'deadLetterTopic must differ from the topic');
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
        retryDelayMs: {
          initial: positive('retryDelayMs.initial', retryDelay.initial, 100, 3_600_000),
          max: positive('retryDelayMs.max', retryDelay.max, 5_000, 3_600_000),
        },
      };
      const subscription = new ManagedSubscription<T>(settings, handler);
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
      sendAllGathered(); // publishes made before close() go out, as if no gathering happened
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      await guard.close(() => adapter.close());
    },
    [Symbol.asyncDispose](): Promise<void> {
      return broker.close();
    },
  };
  return broker;
}
