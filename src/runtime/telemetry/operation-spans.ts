import type { Attributes, Span, SpanOptions } from '@opentelemetry/api';
import type { ServerInfo } from './server-info.ts';
import { spanAttributes, type OperationMetrics } from './semconv.ts';
import { definedAttributes, type CallSpan, type SpanAttributes, type Tracing } from './tracing.ts';

/**
 * The client spans of one guarded adapter: one per call (retries are its events), named
 * `<operation> <target>`, with the conventions' attributes. Attributes that are the same for
 * every call of an operation are built once; a call's own only when its span records.
 */
export class OperationSpans {
  readonly #tracing: Tracing;
  // Span names without a target (the namespace's when there is one), and the operation names.
  readonly #names: Readonly<Record<string, string>>;
  readonly #operationNames: Readonly<Record<string, string>>;
  readonly #fixed: Readonly<Record<string, Attributes>>;
  readonly #options: Readonly<Record<string, SpanOptions>>;
  readonly #kind: number;
  readonly #namespace: string | undefined;

  constructor(
    tracing: Tracing,
    family: OperationMetrics,
    component: string,
    system: string,
    server: ServerInfo | undefined,
    operations: readonly string[],
  ) {
    this.#tracing = tracing;
    this.#kind = tracing.api.SpanKind.CLIENT;
    this.#namespace = server?.namespace;
    const conventions = family.span ?? { system: family.system, operation: family.operation };
    const names: Record<string, string> = {};
    const operationNames: Record<string, string> = {};
    const fixed: Record<string, Attributes> = {};
    const options: Record<string, SpanOptions> = {};
    for (const operation of operations) {
      const name = conventions.operationNames?.[operation] ?? operation;
      operationNames[operation] = name;
      names[operation] = this.#namespace === undefined ? name : `${name} ${this.#namespace}`;
      fixed[operation] = definedAttributes({
        [conventions.system]: system,
        [conventions.operation]: name,
        ...conventions.operationAttributes?.[operation],
        [spanAttributes.serverAddress]: server?.address,
        [spanAttributes.serverPort]: server?.port,
        ...(family.namespace === undefined ? {} : { [spanAttributes.dbNamespace]: server?.namespace }),
        [spanAttributes.component]: component,
      });
    }
    // The SDK copies what it is given, so one options object per operation serves every call.
    for (const operation of operations)
      options[operation] = { kind: this.#kind, attributes: fixed[operation]! };
    this.#names = names;
    this.#operationNames = operationNames;
    this.#fixed = fixed;
    this.#options = options;
  }

  /** The spans of one adapter, or undefined when tracing is off or its system's spans are left to another instrumentation. */
  static of(
    tracing: Tracing | undefined,
    family: OperationMetrics,
    component: string,
    system: string,
    server: ServerInfo | undefined,
    operations: readonly string[],
  ): OperationSpans | undefined {
    if (tracing === undefined || tracing.suppresses(system)) return undefined;
    return new OperationSpans(tracing, family, component, system, server, operations);
  }

  /** A span for one call; undefined without an SDK, or under a parent whose children the SDK samples out. */
  start(operation: string, call: CallSpan<never> | undefined): Span | undefined {
    const tracer = this.#tracing.tracer();
    if (tracer === undefined || this.#tracing.inSampledOutParent()) return undefined;
    const target = call?.target ?? this.#namespace;
    const links = call?.links;
    // Without a target or links the options are the operation's own: no object made per call.
    if (target === this.#namespace && links === undefined) {
      const span = tracer.startSpan(this.#names[operation]!, this.#options[operation]);
      if (call?.attributes !== undefined && span.isRecording())
        span.setAttributes(definedAttributes(call.attributes));
      return span;
    }
    const name =
      target === undefined
        ? this.#operationNames[operation]!
        : `${this.#operationNames[operation]!} ${target}`;
    const span = tracer.startSpan(name, {
      kind: this.#kind,
      attributes: this.#fixed[operation]!,
      ...(links === undefined ? {} : { links: this.#tracing.links(links) }),
    });
    if (call?.attributes !== undefined && span.isRecording())
      span.setAttributes(definedAttributes(call.attributes));
    return span;
  }

  /**
   * Runs a call's attempts (`start`, a promise executor) with its span active, in one promise
   * whose settling ends the span: a second promise per call was measurable on a memory cache.
   * A span that does not record (sampled out) is only made active, never ended or filled.
   */
  traced<T>(
    span: Span,
    call: CallSpan<T> | undefined,
    start: (resolve: (value: T) => void, reject: (error: unknown) => void) => void,
  ): Promise<T> {
    const tracing = this.#tracing;
    if (!span.isRecording()) {
      // Under a parent of the same trace that is sampled out too, what runs inside sees the same.
      if (tracing.inUnsampledTrace(span)) return new Promise<T>(start);
      return tracing.within(span, () => new Promise<T>(start));
    }
    const result = call?.result;
    const executor = (resolve: (value: T) => void, reject: (error: unknown) => void): void =>
      start(
        (value) => {
          if (result !== undefined) resultAttributes(span, result, value);
          span.end();
          resolve(value);
        },
        (error) => {
          tracing.fail(span, error);
          reject(error);
        },
      );
    return tracing.within(span, () => new Promise<T>(executor));
  }

  /** A retry as an event of the call's span. */
  retried(span: Span, attempt: number, delayMs: number, errorType: string): void {
    span.addEvent('retry', {
      [spanAttributes.retryAttempt]: attempt,
      [spanAttributes.retryDelayMs]: delayMs,
      [spanAttributes.errorType]: errorType,
    });
  }

  /** Runs one attempt inside the call's span (a retry after a deadline starts from a timer's context). */
  within<R>(span: Span, fn: () => R): R {
    return this.#tracing.within(span, fn);
  }
}

// Attributes from a call's result; a failing hook must not keep the caller's promise from settling.
function resultAttributes<T>(span: Span, result: (value: T) => SpanAttributes, value: T): void {
  try {
    span.setAttributes(definedAttributes(result(value)));
  } catch {
    // The span goes without them.
  }
}
