import type {
  LlmAdapter,
  LlmAdapterRequest,
  LlmOperation,
  LlmRequest,
  LlmResult,
  LlmStream,
  LlmStreamEvent,
} from '../../ports/llm-client.ts';
import type { Guard } from '../guard/guard.ts';
import { spanAttributes } from '../telemetry/semconv.ts';
import type { LlmTelemetry } from './llm-telemetry.ts';

/** What the streams of one client share. */
export interface StreamContext {
  readonly guard: Guard<LlmOperation>;
  readonly adapter: LlmAdapter;
  readonly telemetry: LlmTelemetry;
  readonly check: (request: LlmRequest) => LlmAdapterRequest;
  /** The streams running, which `close()` cuts. */
  readonly running: Set<AbortController>;
  /** Longest wait for the next chunk once the stream has started. */
  readonly stallTimeoutMs: number;
}

interface Opened {
  iterator: AsyncIterator<LlmStreamEvent>;
  first: IteratorResult<LlmStreamEvent>;
}

const noop = (): void => undefined;

/**
 * One streamed completion. Guard covers the call up to its first event (so a stream is retried
 * only before any delta); after that a stall deadline per chunk bounds it. Chunks are kept for
 * the one iteration, and `result` settles with the whole reply or the failure.
 */
export class GuardedLlmStream implements LlmStream {
  readonly result: Promise<LlmResult>;
  readonly #context: StreamContext;
  readonly #started = performance.now();
  readonly #chunks: string[] = [];
  readonly #cancel = new AbortController();
  #state: 'running' | 'done' | 'failed' = 'running';
  #failure: unknown = undefined;
  #wake: (() => void) | undefined = undefined;
  #iterated = false;
  #resolve: (result: LlmResult) => void = noop;
  #reject: (error: unknown) => void = noop;

  constructor(request: LlmRequest, context: StreamContext) {
    this.#context = context;
    this.result = new Promise<LlmResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The iteration throws the same failure; a result nobody reads must not crash the process.
    this.result.catch(noop);
    this.#pump(request).catch((error: unknown) => this.#fail(error));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string, void, undefined> {
    if (this.#iterated)
      throw this.#context.guard.error('validation', 'stream', 'a stream can be iterated only once');
    this.#iterated = true;
    let index = 0;
    try {
      for (;;) {
        if (index < this.#chunks.length) {
          yield this.#chunks[index++]!;
          continue;
        }
        if (this.#state === 'failed') throw this.#failure;
        if (this.#state === 'done') return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      if (this.#state === 'running')
        this.#fail(new DOMException('The stream was cancelled by its consumer', 'AbortError'));
    }
  }

  async #pump(request: LlmRequest): Promise<void> {
    const { guard, telemetry, running } = this.#context;
    const validated = this.#context.check(request);
    telemetry.prompt('stream', validated);
    running.add(this.#cancel);
    const cancel = this.#cancel.signal;
    const signal = request.signal ? AbortSignal.any([request.signal, cancel]) : cancel;
    const opened = await guard.run(
      'stream',
      { signal, ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }) },
      (ctx) => this.#open(validated, AbortSignal.any([ctx.signal, signal])),
      undefined,
      telemetry.labels(validated),
      { target: validated.model, attributes: { [spanAttributes.genAiRequestModel]: validated.model } },
    );
    await this.#consume(validated, opened, signal);
  }

  async #open(request: LlmAdapterRequest, signal: AbortSignal): Promise<Opened> {
    const iterator = this.#context.adapter.stream(request, signal)[Symbol.asyncIterator]();
    return { iterator, first: await iterator.next() };
  }

  async #consume(request: LlmAdapterRequest, opened: Opened, signal: AbortSignal): Promise<void> {
    const { guard, stallTimeoutMs } = this.#context;
    const { iterator } = opened;
    let next = opened.first;
    const stall = setTimeout(
      () => this.#fail(guard.error('timeout', 'stream', `no data for ${stallTimeoutMs} ms`)),
      stallTimeoutMs,
    );
    const onAbort = (): void => this.#fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (this.#state === 'running') {
        if (next.done === true)
          throw guard.error('unavailable', 'stream', 'stream ended before the reply was complete');
        const event = next.value;
        if (event.type === 'done') return this.#done(request, event);
        if (event.text.length > 0) {
          this.#chunks.push(event.text);
          this.#notify();
        }
        stall.refresh();
        next = await iterator.next();
      }
    } catch (error) {
      // Once data was yielded the call is not repeated: the consumer has acted on it.
      if (this.#state === 'running') {
        const infra = guard.toInfraError('stream', error);
        guard.logger.debug({ err: infra, operation: 'stream' }, 'stream failed');
        this.#fail(infra);
      }
    } finally {
      clearTimeout(stall);
      signal.removeEventListener('abort', onAbort);
      if (this.#state !== 'done') void iterator.return?.()?.catch(noop);
    }
  }

  #done(request: LlmAdapterRequest, event: Extract<LlmStreamEvent, { type: 'done' }>): void {
    const text = this.#chunks.join('');
    const done = this.#context.telemetry.finish('stream', request, { ...event, text }, this.#started);
    this.#state = 'done';
    this.#context.running.delete(this.#cancel);
    this.#resolve(done);
    this.#notify();
  }

  #notify(): void {
    const waiting = this.#wake;
    this.#wake = undefined;
    waiting?.();
  }

  #fail(error: unknown): void {
    if (this.#state !== 'running') return;
    this.#state = 'failed';
    this.#failure = error;
    this.#context.running.delete(this.#cancel);
    this.#cancel.abort(error);
    this.#reject(error);
    this.#notify();
  }
}
