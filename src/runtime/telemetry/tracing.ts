import { createRequire } from 'node:module';
import type * as OpenTelemetryApi from '@opentelemetry/api';
import type {
  Attributes,
  Context,
  Link,
  Span,
  SpanContext,
  Tracer,
  TracerProvider,
} from '@opentelemetry/api';
import { isInfraError } from '../../ports/errors.ts';
import { spanAttributes } from './semconv.ts';

type Api = typeof OpenTelemetryApi;

let loadedApi: Api | null | undefined;

/**
 * `@opentelemetry/api` when it is installed (an optional peer), resolved once, synchronously:
 * `createRuntime()` and the adapter factories are synchronous, so a dynamic import would leave
 * the first calls untraced. Node loads the API's CommonJS build for `import` and `require`
 * alike, so this is the copy the application registers its SDK with.
 */
export function openTelemetryApi(): Api | undefined {
  if (loadedApi === undefined) {
    try {
      loadedApi = createRequire(import.meta.url)('@opentelemetry/api') as Api;
    } catch {
      loadedApi = null;
    }
  }
  return loadedApi ?? undefined;
}

/** What `createRuntime({ tracing })` takes. */
export interface TracingOptions {
  /** Spans and trace context in message headers; default true, unless `BERTH_TRACING=off`. */
  enabled?: boolean | undefined;
  /**
   * Systems (`redis`, `kafka`, `mongodb`, …) whose client spans berth leaves to an
   * auto-instrumentation that already makes them; berth still carries context through messages.
   * Also `BERTH_TRACING_SUPPRESS_FOR=redis,kafka`.
   */
  suppressFor?: readonly string[] | undefined;
}

/** Attributes of a span as berth builds them; undefined values are left out. */
export type SpanAttributes = Record<string, string | number | boolean | readonly string[] | undefined>;

/** What one guarded call adds to its span. */
export interface CallSpan<T = unknown> {
  /** Appended to the span's name: a topic, a collection, a model. */
  target?: string | undefined;
  attributes?: SpanAttributes | undefined;
  /** Contexts the call relates to, such as those of the messages a batch sends. */
  links?: readonly TraceLink[] | undefined;
  /** Attributes known from the result, such as token usage. */
  result?: ((value: T) => SpanAttributes) | undefined;
}

/** A span context to link to, opaque to code that does not import the API. */
export interface TraceLink {
  readonly context: object;
}

/** Links of one span at most: a gathered batch may hold 1,000 messages. */
export const maxLinks = 128;

// Where API 1.x keeps its registered globals (the peer range is 1.x).
const apiGlobals = Symbol.for('opentelemetry.js.api.1');
// Calls that reuse the last answer about the registered SDK.
const recheckEvery = 256;

/** Whether the SDK samples out a child of a local or a remote parent that is sampled out. */
interface ParentRule {
  readonly local: boolean;
  readonly remote: boolean;
}
const noParentRule: ParentRule = { local: false, remote: false };
// A valid parent that is sampled out, for asking the sampler what it does with its children.
const probeParent = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: 0,
};

/** The runtime's view of OpenTelemetry: the tracer once an SDK is registered, and the switches. */
export class Tracing {
  readonly api: Api;
  readonly #suppressed: ReadonlySet<string>;
  #provider: TracerProvider | undefined = undefined;
  #providerTracer: Tracer | undefined = undefined;
  #tracer: Tracer | undefined = undefined;
  #unchecked = 0;
  #followsParent: ParentRule = noParentRule;

  constructor(api: Api, suppressFor: readonly string[]) {
    this.api = api;
    this.#suppressed = new Set(suppressFor);
  }

  /** Whether berth leaves client spans of `system` to another instrumentation. */
  suppresses(system: string): boolean {
    return this.#suppressed.has(system);
  }

  /**
   * The tracer of the registered SDK, or undefined while none is: then berth makes no span at
   * all, which costs less than the API's non-recording ones. The answer is kept for 256 calls:
   * asking the API (a lookup of a missing property on globalThis, then the proxy provider) cost
   * ~100 ns a call, a tenth of a guarded call to an in-memory backend. So an SDK registered (or
   * disabled) after the runtime was made is seen within 256 calls.
   */
  tracer(): Tracer | undefined {
    if (this.#unchecked-- > 0) return this.#tracer;
    this.#unchecked = recheckEvery - 1;
    this.#tracer = this.#registeredTracer();
    return this.#tracer;
  }

  #registeredTracer(): Tracer | undefined {
    // What an SDK registers lives on globalThis under the API's key: nothing there, no SDK.
    if ((globalThis as Record<symbol, { trace?: unknown } | undefined>)[apiGlobals]?.trace === undefined)
      return undefined;
    const provider = this.api.trace.getTracerProvider();
    if (provider === this.#provider && this.#providerTracer !== undefined) return this.#providerTracer;
    // The API's proxy provider hands out its SDK's tracer, or nothing until one is registered.
    const proxy = provider as TracerProvider & {
      getDelegateTracer?: (name: string, version?: string) => Tracer | undefined;
    };
    const tracer =
      typeof proxy.getDelegateTracer === 'function'
        ? proxy.getDelegateTracer(tracerName, tracerVersion)
        : provider.getTracer(tracerName, tracerVersion);
    this.#provider = provider;
    this.#providerTracer = tracer;
    this.#followsParent = tracer === undefined ? noParentRule : this.#parentRule(tracer);
    return tracer;
  }

  // Asks the SDK's sampler once per provider whether it samples out the child of a parent sampled
  // out (ParentBased, the SDK's default, does). A probe span that records is left unended, so it
  // is never exported: only a sampler that keeps such children records it, and berth then makes its spans.
  #parentRule(tracer: Tracer): ParentRule {
    const api = this.api;
    const sampledOut = (isRemote: boolean): boolean => {
      const parent = api.trace.setSpanContext(api.ROOT_CONTEXT, { ...probeParent, isRemote });
      return !tracer.startSpan('berth sampling probe', {}, parent).isRecording();
    };
    return { local: sampledOut(false), remote: sampledOut(true) };
  }

  /**
   * Whether the active span is sampled out and the SDK samples out its children: then a call
   * makes no span of its own and runs in that context, whose trace stays sampled out downstream.
   * This is what makes a call in a request sampled out (90% at 10%) cost a context lookup.
   */
  inSampledOutParent(): boolean {
    const rule = this.#followsParent;
    if (!rule.local && !rule.remote) return false;
    const api = this.api;
    const active = api.trace.getSpanContext(api.context.active());
    if (active === undefined || (active.traceFlags & api.TraceFlags.SAMPLED) !== 0) return false;
    return (active.isRemote === true ? rule.remote : rule.local) && api.isSpanContextValid(active);
  }

  /** Runs `fn` with `span` as the active span, so what it starts (driver spans, logs) joins it. */
  within<R>(span: Span, fn: () => R): R {
    const api = this.api;
    return api.context.with(api.trace.setSpan(api.context.active(), span), fn);
  }

  /** Whether the active span is of `span`'s trace and, like it, not sampled. */
  inUnsampledTrace(span: Span): boolean {
    const api = this.api;
    const active = api.trace.getSpanContext(api.context.active());
    if (active === undefined || (active.traceFlags & api.TraceFlags.SAMPLED) !== 0) return false;
    return active.traceId === span.spanContext().traceId && api.isSpanContextValid(active);
  }

  /** Links as the API takes them, `maxLinks` at most. */
  links(links: readonly TraceLink[]): Link[] {
    const out: Link[] = [];
    for (let i = 0; i < links.length && i < maxLinks; i++)
      out.push({ context: links[i]!.context as SpanContext });
    return out;
  }

  /** Ends `span` as failed: status ERROR and `error.type` (an InfraError's reason, or the error's name). */
  fail(span: Span, error: unknown): void {
    span.setAttribute(spanAttributes.errorType, errorType(error));
    span.setStatus({
      code: this.api.SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    span.end();
  }

  /** The context in `headers` (W3C `traceparent`/`tracestate` with the default propagator). */
  extract(headers: Readonly<Record<string, string>>): Context {
    return this.api.propagation.extract(this.api.ROOT_CONTEXT, headers);
  }

  /** Writes `span`'s context into `headers` through the registered propagator. */
  inject(span: Span, headers: Record<string, string>): void {
    const api = this.api;
    api.propagation.inject(api.trace.setSpan(api.context.active(), span), headers);
  }
}

const tracerName = 'berth';
const tracerVersion = '0.1.0';

/** The runtime's tracing, or undefined when the API is absent or tracing is switched off. */
export function createTracing(
  options: TracingOptions | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Tracing | undefined {
  const switchedOff = ['off', 'false', '0'].includes((env.BERTH_TRACING ?? '').trim().toLowerCase());
  if (options?.enabled === false || (options?.enabled === undefined && switchedOff)) return undefined;
  const api = openTelemetryApi();
  if (api === undefined) return undefined;
  const fromEnv = (env.BERTH_TRACING_SUPPRESS_FOR ?? '')
    .split(',')
    .map((system) => system.trim())
    .filter((system) => system.length > 0);
  return new Tracing(api, [...(options?.suppressFor ?? []), ...fromEnv]);
}

/** `error.type`: the InfraError's reason, else the error's name. */
export function errorType(error: unknown): string {
  if (isInfraError(error)) return error.reason;
  return error instanceof Error ? error.name : '_OTHER';
}

/** Attributes without the undefined values (the API would drop them, a sampler might not). */
export function definedAttributes(attributes: SpanAttributes): Attributes {
  const out: Attributes = {};
  for (const name in attributes) {
    const value = attributes[name];
    if (value !== undefined) out[name] = value as Attributes[string];
  }
  return out;
}

/**
 * `trace_id`, `span_id` and `trace_flags` of the active span, for a pino `mixin`: log lines
 * written inside a span join its trace. Empty outside a span or without the API.
 */
export function traceLogFields(): Record<string, string> {
  const api = openTelemetryApi();
  if (api === undefined) return {};
  const span = api.trace.getSpan(api.context.active());
  if (span === undefined) return {};
  const context = span.spanContext();
  if (!api.isSpanContextValid(context)) return {};
  return {
    trace_id: context.traceId,
    span_id: context.spanId,
    trace_flags: `0${context.traceFlags.toString(16)}`.slice(-2),
  };
}
