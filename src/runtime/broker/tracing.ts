import type { Attributes, Link, Span } from '@opentelemetry/api';
import type { Counter } from 'prom-client';
import type {
  BrokerAdapter,
  BrokerRecord,
  ConsumerLoop,
  ConsumerLoopOptions,
  DeliveredRecord,
  MessageHandler,
  ReceivedMessage,
} from '../../ports/broker.ts';
import { CreationContexts } from './creation-contexts.ts';
import { brokerHeaders } from './headers.ts';
import type { ServerInfo } from '../telemetry/server-info.ts';
import { counterOn } from '../telemetry/metrics.ts';
import { OperationHistogram, type HistogramSeries } from '../telemetry/operation-histogram.ts';
import type { Runtime } from '../runtime.ts';
import {
  attributes,
  messagingClientConsumedMessages,
  messagingClientOperationDuration,
  messagingClientSentMessages,
  messagingProcessDuration,
  spanAttributes,
} from '../telemetry/semconv.ts';
import {
  definedAttributes,
  errorType,
  maxLinks,
  type CallSpan,
  type TraceLink,
  type Tracing,
} from '../telemetry/tracing.ts';

type Labels = Record<string, string>;

const traceparentHeader = 'traceparent';

/** How a handler's span relates to the message's creation context. */
export type TraceContextMode = 'parent' | 'link';

/**
 * The broker's telemetry that is not one guarded call: creation contexts injected into
 * published messages (W3C `traceparent`/`tracestate`, as `@opentelemetry/instrumentation-kafkajs`
 * writes and reads them), the send span's links, a `receive` span per delivered batch linking
 * its messages, a `process` span per handler attempt (a child of the message's creation context,
 * or linked to it), and the messaging metrics counted per message: sent, consumed on delivery,
 * handler duration, batch duration.
 */
export class BrokerTelemetry {
  readonly #tracing: Tracing | undefined;
  readonly #registry: Runtime['registry'];
  readonly #system: string;
  readonly #component: string;
  readonly #server: ServerInfo | undefined;
  readonly #base: Labels;
  readonly #serverAttributes: Attributes;
  readonly #sent: Counter;
  readonly #consumed: Counter;
  readonly #operations: OperationHistogram;
  readonly #contexts: CreationContexts | undefined;

  constructor(runtime: Runtime, system: string, component: string, server: ServerInfo | undefined) {
    this.#tracing = runtime.tracing;
    this.#contexts = runtime.tracing === undefined ? undefined : new CreationContexts(runtime.tracing);
    this.#registry = runtime.registry;
    this.#system = system;
    this.#component = component;
    this.#server = server;
    this.#base = { [attributes.messagingSystem]: system };
    if (server?.address !== undefined) this.#base[attributes.serverAddress] = server.address;
    if (server?.port !== undefined) this.#base[attributes.serverPort] = String(server.port);
    this.#serverAttributes = definedAttributes({
      [spanAttributes.messagingSystem]: system,
      [spanAttributes.serverAddress]: server?.address,
      [spanAttributes.serverPort]: server?.port,
    });
    this.#sent = counterOn(runtime.registry, messagingClientSentMessages);
    this.#consumed = counterOn(runtime.registry, messagingClientConsumedMessages);
    this.#operations = OperationHistogram.on(runtime.registry, messagingClientOperationDuration);
  }

  /**
   * Gives each record of a `publish` call without one a creation context: a PRODUCER
   * `create <topic>` span, a child of the caller's active span, injected into its headers.
   * Nothing without an SDK.
   */
  created(topic: string, records: readonly BrokerRecord[]): readonly BrokerRecord[] {
    const tracing = this.#tracing;
    const tracer = tracing?.tracer();
    if (tracer === undefined) return records;
    for (const record of records) {
      // A message that has one already (written through an outbox, or forwarded) keeps it.
      if (record.headers[traceparentHeader] !== undefined) continue;
      const span = tracer.startSpan(`create ${topic}`, {
        kind: tracing!.api.SpanKind.PRODUCER,
        attributes: this.#serverAttributes,
      });
      if (span.isRecording())
        span.setAttributes({
          [spanAttributes.messagingOperationName]: 'create',
          [spanAttributes.messagingOperationType]: 'create',
          [spanAttributes.messagingDestinationName]: topic,
          [spanAttributes.messagingMessageId]: record.headers[brokerHeaders.id] ?? '',
          [spanAttributes.messagingMessageBodySize]: record.value.byteLength,
        });
      this.#contexts!.inject(span, record.headers);
      span.end();
    }
    return records;
  }

  /**
   * One guarded send of `records` to `topic`: its duration labelled with the destination, its
   * span linked to each message's creation context, its messages counted once it settled.
   */
  send(
    topic: string,
    records: readonly BrokerRecord[],
    run: (labels: () => Labels, span: CallSpan<void> | undefined) => Promise<void>,
  ): Promise<void> {
    const labels = { [attributes.messagingDestinationName]: topic };
    const span: CallSpan<void> = {
      target: topic,
      attributes: {
        [spanAttributes.messagingDestinationName]: topic,
        [spanAttributes.messagingBatchMessageCount]: records.length > 1 ? records.length : undefined,
      },
      links: this.#tracing?.tracer() === undefined ? undefined : this.#linksOf(records),
    };
    const counted = {
      ...this.#base,
      [attributes.messagingOperationName]: 'publish',
      [attributes.messagingDestinationName]: topic,
      [attributes.component]: this.#component,
    };
    return run(() => labels, span).then(
      () => this.#sent.inc(counted, records.length),
      (error: unknown) => {
        this.#sent.inc({ ...counted, [attributes.errorType]: errorType(error) }, records.length);
        throw error;
      },
    );
  }

  /**
   * The adapter as subscriptions see it: each delivered batch is counted on delivery, timed as
   * `receive` until its records were handled, and (with an SDK) runs in a `receive <topic>`
   * span that links the messages' creation contexts.
   */
  consuming(adapter: BrokerAdapter): BrokerAdapter {
    const consumer = (options: ConsumerLoopOptions): ConsumerLoop => {
      const process = options.process;
      const consumed = {
        ...this.#base,
        [attributes.messagingOperationName]: 'receive',
        [attributes.messagingDestinationName]: options.topic,
        [attributes.messagingConsumerGroupName]: options.group,
        [attributes.component]: this.#component,
      };
      const timed = this.#operations.series({
        ...this.#base,
        [attributes.messagingOperationName]: 'receive',
        [attributes.messagingOperationType]: 'receive',
        [attributes.messagingDestinationName]: options.topic,
        [attributes.component]: this.#component,
      });
      const batches = { consumed, timed, failed: new Map<string, HistogramSeries>() };
      return adapter.consumer({
        ...options,
        process: (records) => this.#received(options.topic, options.group, records, batches, process),
      });
    };
    // Everything else is the adapter's own, whatever members it has now or gains later.
    return new Proxy(adapter, {
      get: (target, property) => {
        if (property === 'consumer') return consumer;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** The telemetry of one subscription's handler attempts. */
  subscription(topic: string, group: string, mode: TraceContextMode): HandlerTelemetry {
    const labels = {
      [attributes.messagingSystem]: this.#system,
      [attributes.messagingOperationName]: 'process',
      [attributes.messagingDestinationName]: topic,
      [attributes.messagingConsumerGroupName]: group,
      [attributes.component]: this.#component,
    };
    const spanStart = definedAttributes({
      [spanAttributes.messagingSystem]: this.#system,
      [spanAttributes.messagingOperationName]: 'process',
      [spanAttributes.messagingOperationType]: 'process',
      [spanAttributes.messagingDestinationName]: topic,
      [spanAttributes.messagingConsumerGroupName]: group,
      [spanAttributes.serverAddress]: this.#server?.address,
      [spanAttributes.serverPort]: this.#server?.port,
    });
    return new HandlerTelemetry(
      this.#tracing,
      this.#contexts,
      this.#registry,
      labels,
      spanStart,
      topic,
      mode,
    );
  }

  #received(
    topic: string,
    group: string,
    records: readonly DeliveredRecord[],
    batches: { consumed: Labels; timed: HistogramSeries; failed: Map<string, HistogramSeries> },
    process: (records: readonly DeliveredRecord[]) => Promise<number>,
  ): Promise<number> {
    this.#consumed.inc(batches.consumed, records.length);
    const started = performance.now();
    const tracing = this.#tracing;
    const tracer = tracing?.tracer();
    let span: Span | undefined;
    let handled: Promise<number>;
    if (tracer === undefined) handled = process(records);
    else {
      span = tracer.startSpan(`receive ${topic}`, {
        kind: tracing!.api.SpanKind.CLIENT,
        attributes: {
          ...this.#serverAttributes,
          [spanAttributes.messagingOperationName]: 'receive',
          [spanAttributes.messagingOperationType]: 'receive',
          [spanAttributes.messagingDestinationName]: topic,
          [spanAttributes.messagingConsumerGroupName]: group,
          [spanAttributes.messagingBatchMessageCount]: records.length,
        },
        links: this.#apiLinks(this.#linksOf(records)),
      });
      handled = tracing!.within(span, () => process(records));
    }
    return handled.then(
      (count) => {
        batches.timed.observe((performance.now() - started) / 1000);
        span?.end();
        return count;
      },
      (error: unknown) => {
        const type = errorType(error);
        let failed = batches.failed.get(type);
        if (failed === undefined) {
          failed = this.#operations.series({ ...batches.timed.labels, [attributes.errorType]: type });
          batches.failed.set(type, failed);
        }
        failed.observe((performance.now() - started) / 1000);
        if (span !== undefined) tracing!.fail(span, error);
        throw error;
      },
    );
  }

  // The creation contexts the records carry (dead letters keep their original ones).
  #linksOf(records: readonly BrokerRecord[]): TraceLink[] {
    const contexts = this.#contexts!;
    const links: TraceLink[] = [];
    for (let i = 0; i < records.length && links.length < maxLinks; i++) {
      const context = contexts.linkOf(records[i]!.headers);
      if (context !== undefined) links.push({ context });
    }
    return links;
  }

  #apiLinks(links: readonly TraceLink[]): Link[] {
    return this.#tracing!.links(links);
  }
}

/**
 * One subscription's handler attempts: a CONSUMER `process <topic>` span around each (the
 * handler runs inside it, so its own calls join the message's trace) and its duration. The
 * subscription reports each attempt's end through `ended`.
 */
export class HandlerTelemetry {
  readonly #tracing: Tracing | undefined;
  readonly #contexts: CreationContexts | undefined;
  readonly #histogram: OperationHistogram;
  readonly #labels: Labels;
  readonly #ok: HistogramSeries;
  readonly #failed = new Map<string, HistogramSeries>();
  readonly #spanStart: Attributes;
  readonly #name: string;
  readonly #mode: TraceContextMode;
  // The span of each attempt in flight, when an SDK records.
  readonly #spans = new Map<ReceivedMessage<unknown>, Span>();

  constructor(
    tracing: Tracing | undefined,
    contexts: CreationContexts | undefined,
    registry: Runtime['registry'],
    labels: Labels,
    spanStart: Attributes,
    topic: string,
    mode: TraceContextMode,
  ) {
    this.#tracing = tracing;
    this.#contexts = contexts;
    this.#histogram = OperationHistogram.on(registry, messagingProcessDuration);
    this.#labels = labels;
    this.#ok = this.#histogram.series(labels);
    this.#spanStart = spanStart;
    this.#name = `process ${topic}`;
    this.#mode = mode;
  }

  /** The handler as the subscription calls it: no promise of its own, so none is paid per message. */
  wrap<T>(handler: MessageHandler<T>): MessageHandler<T> {
    return (message, signal) => {
      const span = this.#start(message);
      if (span === undefined) return handler(message, signal);
      this.#spans.set(message, span);
      return this.#tracing!.within(span, () => handler(message, signal));
    };
  }

  /**
   * An attempt that began at `startedAt` (`performance.now()`) ended: failed when `failure` is
   * defined. The caller keeps the start: a map from message to start cost a set, a get and a
   * delete per message.
   */
  ended(message: ReceivedMessage<unknown>, failure: unknown, startedAt: number): void {
    const seconds = (performance.now() - startedAt) / 1000;
    const span = this.#spans.size === 0 ? undefined : this.#spans.get(message);
    if (span !== undefined) this.#spans.delete(message);
    if (failure === undefined) {
      this.#ok.observe(seconds);
      span?.end();
      return;
    }
    const type = errorType(failure);
    let failed = this.#failed.get(type);
    if (failed === undefined) {
      failed = this.#histogram.series({ ...this.#labels, [attributes.errorType]: type });
      this.#failed.set(type, failed);
    }
    failed.observe(seconds);
    if (span !== undefined) this.#tracing!.fail(span, failure);
  }

  #start(message: ReceivedMessage<unknown>): Span | undefined {
    const tracing = this.#tracing;
    const tracer = tracing?.tracer();
    if (tracer === undefined) return undefined;
    const api = tracing!.api;
    // Read once per message: the receive span's links read the batch's first ones already.
    const { context: extracted, span: created } = this.#contexts!.of(message.headers);
    const valid = created !== undefined;
    // Without a creation context the span joins what is active: the batch's receive span.
    const parent = this.#mode === 'link' || !valid ? undefined : extracted;
    const span = tracer.startSpan(
      this.#name,
      {
        kind: api.SpanKind.CONSUMER,
        attributes: this.#spanStart,
        ...(this.#mode === 'link' && valid ? { links: [{ context: created }] } : {}),
        ...(this.#mode === 'link' ? { root: true } : {}),
      },
      parent,
    );
    if (span.isRecording())
      span.setAttributes({
        [spanAttributes.messagingMessageId]: message.id,
        'berth.message.attempt': message.attempt,
      });
    return span;
  }
}
