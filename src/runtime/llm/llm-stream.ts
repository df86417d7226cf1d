import type {
  LlmAdapter,
  LlmAdapterRequest,
  LlmAdapterToolCall,
  LlmOperation,
  LlmRequest,
  LlmStreamEvent,
} from '../../ports/llm-client.ts';
import type { Guard } from '../guard/guard.ts';
import { spanAttributes } from '../telemetry/semconv.ts';
import { estimateTokens, type CheckedLlmRequest } from './llm-request.ts';
import type { RateCost } from '../guard/rate-limit.ts';
import { BufferedLlmStream } from './llm-stream-buffer.ts';
import type { LlmTelemetry } from './llm-telemetry.ts';

/** What the streams of one client share. */
export interface StreamContext {
  readonly guard: Guard<LlmOperation>;
  readonly adapter: LlmAdapter;
  readonly telemetry: LlmTelemetry;
  readonly check: (request: LlmRequest) => CheckedLlmRequest;
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
 * only before any delta); after that a stall deadline per chunk bounds it. Tool-call pieces are
 * put together by index and yielded, checked, once the reply is complete.
 */
export class GuardedLlmStream extends BufferedLlmStream {
  readonly #context: StreamContext;
  readonly #started = performance.now();
  readonly #text: string[] = [];
  readonly #calls = new Map<number, LlmAdapterToolCall>();

  constructor(request: LlmRequest, context: StreamContext) {
    super();
    this.#context = context;
    this.#pump(request).catch((error: unknown) => this.fail(error));
  }

  protected iteratedTwice(): unknown {
    return this.#context.guard.error('validation', 'stream', 'a stream can be iterated only once');
  }

  protected override fail(error: unknown): void {
    this.#context.running.delete(this.cancel);
    super.fail(error);
  }

  async #pump(request: LlmRequest): Promise<void> {
    const { guard, telemetry, running } = this.#context;
    const checked = this.#context.check(request);
    const validated = checked.request;
    telemetry.prompt('stream', validated);
    running.add(this.cancel);
    const cancel = this.cancel.signal;
    const signal = request.signal ? AbortSignal.any([request.signal, cancel]) : cancel;
    const cost = { tokens: estimateTokens(validated) };
    const opened = await guard.run(
      'stream',
      { signal, ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }) },
      (ctx) => this.#open(validated, AbortSignal.any([ctx.signal, signal])),
      undefined,
      telemetry.labels(validated),
      { target: validated.model, attributes: { [spanAttributes.genAiRequestModel]: validated.model } },
      cost,
    );
    await this.#consume(checked, opened, signal, cost);
  }

  async #open(request: LlmAdapterRequest, signal: AbortSignal): Promise<Opened> {
    const iterator = this.#context.adapter.stream(request, signal)[Symbol.asyncIterator]();
    return { iterator, first: await iterator.next() };
  }

  async #consume(
    checked: CheckedLlmRequest,
    opened: Opened,
    signal: AbortSignal,
    cost: RateCost,
  ): Promise<void> {
    const { guard, stallTimeoutMs } = this.#context;
    const { iterator } = opened;
    let next = opened.first;
    const stall = setTimeout(
      () => this.fail(guard.error('timeout', 'stream', `no data for ${stallTimeoutMs} ms`)),
      stallTimeoutMs,
    );
    const onAbort = (): void => this.fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let done = false;
    try {
      while (this.running) {
        if (next.done === true)
          throw guard.error('unavailable', 'stream', 'stream ended before the reply was complete');
        const event = next.value;
        if (event.type === 'done') {
          done = true;
          clearTimeout(stall);
          return await this.#done(checked, event, cost);
        }
        if (event.type === 'tool_call_delta') this.#toolCallPiece(event);
        else if (event.text.length > 0) {
          this.#text.push(event.text);
          this.push({ type: 'text', text: event.text });
        }
        stall.refresh();
        next = await iterator.next();
      }
    } catch (error) {
      // Once data was yielded the call is not repeated: the consumer has acted on it.
      if (this.running) {
        const infra = guard.toInfraError('stream', error);
        guard.logger.debug({ err: infra, operation: 'stream' }, 'stream failed');
        this.fail(infra);
      }
    } finally {
      clearTimeout(stall);
      signal.removeEventListener('abort', onAbort);
      if (!done) void iterator.return?.()?.catch(noop);
    }
  }

  #toolCallPiece(event: Extract<LlmStreamEvent, { type: 'tool_call_delta' }>): void {
    const call = this.#calls.get(event.index) ?? { id: '', name: '', arguments: '' };
    if (event.id !== undefined && call.id === '') call.id = event.id;
    if (event.name !== undefined) call.name += event.name;
    if (event.arguments !== undefined) call.arguments += event.arguments;
    this.#calls.set(event.index, call);
  }

  async #done(
    checked: CheckedLlmRequest,
    event: Extract<LlmStreamEvent, { type: 'done' }>,
    cost: RateCost,
  ): Promise<void> {
    const { guard, telemetry, running } = this.#context;
    guard.correctCost(cost, event.usage.inputTokens + event.usage.outputTokens);
    const raw = [...this.#calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ ...call, id: call.id || `call_${index}` }));
    const invalid = (operation: string, path: string, message: string) =>
      guard.invalid(operation, path, message);
    const toolCalls = await checked.tools.check('stream', raw, invalid);
    for (const toolCall of toolCalls) this.push({ type: 'tool_call', toolCall });
    const completion = { ...event, text: this.#text.join(''), toolCalls };
    const result = telemetry.finish('stream', checked.request, completion, this.#started);
    running.delete(this.cancel);
    this.succeed(result);
  }
}
