import type { Context, Span, SpanContext } from '@opentelemetry/api';
import type { Tracing } from '../telemetry/tracing.ts';

/** A message's creation context: what its headers carry, and its span context when that is valid. */
export interface CreationContext {
  readonly context: Context;
  readonly span: SpanContext | undefined;
}

/**
 * The creation contexts of messages, each read from its headers once. A delivered batch's
 * `receive` span links them and each handler's `process` span is their child, and the send span
 * links those just injected: each of these used to parse `traceparent` again. Keyed by the
 * headers object, which a record keeps for its life (a delivered message shares its record's).
 */
export class CreationContexts {
  readonly #tracing: Tracing;
  readonly #known = new WeakMap<object, CreationContext>();
  // What publish injected, for the send span's links; a handler's context is read from the headers, baggage and all.
  readonly #injected = new WeakMap<object, SpanContext>();

  constructor(tracing: Tracing) {
    this.#tracing = tracing;
  }

  /** The context `headers` carry, parsed the first time they are asked about. */
  of(headers: Readonly<Record<string, string>>): CreationContext {
    let known = this.#known.get(headers);
    if (known === undefined) {
      const api = this.#tracing.api;
      const context = this.#tracing.extract(headers);
      const span = api.trace.getSpanContext(context);
      known = { context, span: span !== undefined && api.isSpanContextValid(span) ? span : undefined };
      this.#known.set(headers, known);
    }
    return known;
  }

  /** Writes `span`'s context into `headers` and remembers it, so the send span links it unparsed. */
  inject(span: Span, headers: Record<string, string>): void {
    this.#tracing.inject(span, headers);
    const spanContext = span.spanContext();
    if (this.#tracing.api.isSpanContextValid(spanContext)) this.#injected.set(headers, spanContext);
  }

  /** The span context to link for a message: the one publish injected, else the one its headers carry. */
  linkOf(headers: Readonly<Record<string, string>>): SpanContext | undefined {
    return this.#injected.get(headers) ?? this.of(headers).span;
  }
}
