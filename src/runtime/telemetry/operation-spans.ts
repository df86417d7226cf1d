import type { Attributes, Span } from '@opentelemetry/api';
import type { ServerInfo } from './server-info.ts';
import { spanAttributes, type OperationMetrics } from './semconv.ts';
import { definedAttributes, type CallSpan, type Tracing } from './tracing.ts';

/**
 * The client spans of one guarded adapter: one per call (retries are its events), named
 * `<operation> <target>`, with the conventions' attributes. Attributes that are the same for
 * every call of an operation are built once; a call's own only when its span records.
 */
export class OperationSpans {
  readonly #tracing: Tracing;
  readonly #names: Readonly<Record<string, string>>;
  readonly #fixed: Readonly<Record<string, Attributes>>;
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
    const fixed: Record<string, Attributes> = {};
    for (const operation of operations) {
      const name = conventions.operationNames?.[operation] ?? operation;
      names[operation] = name;
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
    this.#names = names;
    this.#fixed = fixed;
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

  /** A span for one call, or undefined when no SDK is registered. */
  start(operation: string, call: CallSpan<never> | undefined): Span | undefined {
    const tracer = this.#tracing.tracer();
    if (tracer === undefined) return undefined;
    const target = call?.target ?? this.#namespace;
    const name = target === undefined ? this.#names[operation]! : `${this.#names[operation]!} ${target}`;
    const links = call?.links;
    const span = tracer.startSpan(name, {
      kind: this.#kind,
      attributes: this.#fixed[operation]!,
      ...(links === undefined ? {} : { links: this.#tracing.links(links) }),
    });
    if (call?.attributes !== undefined && span.isRecording())
      span.setAttributes(definedAttributes(call.attributes));
    return span;
  }

  /** Runs a call's attempts with its span active, and ends the span when the call settles. */
  traced<T>(span: Span, call: CallSpan<T> | undefined, run: () => Promise<T>): Promise<T> {
    const tracing = this.#tracing;
    return tracing.within(span, run).then(
      (value) => {
        if (call?.result !== undefined && span.isRecording())
          span.setAttributes(definedAttributes(call.result(value)));
        span.end();
        return value;
      },
      (error: unknown) => {
        tracing.fail(span, error);
        throw error;
      },
    );
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
