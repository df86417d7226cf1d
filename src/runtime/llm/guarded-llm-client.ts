import {
  llmClientOperations,
  type LlmAdapter,
  type LlmAdapterRequest,
  type LlmClient,
  type LlmCompletion,
  type LlmOperation,
  type LlmOption,
  type LlmRequest,
  type LlmResult,
  type LlmStream,
  type LlmStreamEvent,
} from '../../ports/llm-client.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { tokenUsageHistogram } from '../telemetry/metrics.ts';
import type { Runtime } from '../runtime.ts';
import { attributes, genAiClientOperationDuration, spanAttributes } from '../telemetry/semconv.ts';
import type { CallSpan } from '../telemetry/tracing.ts';

export interface GuardedLlmClientOptions extends GuardedOptions {
  /** Longest wait for the next chunk once a stream has started; default 30 s. */
  stallTimeoutMs?: number | undefined;
  /** Logs prompts and completions at debug level; off by default, as they may hold personal data. */
  logContent?: boolean | undefined;
}

const roles: ReadonlySet<string> = new Set(['system', 'user', 'assistant']);
const noop = (): void => undefined;

const llmPort: GuardedPort<LlmOperation> = {
  port: 'llm',
  idPrefix: 'llm',
  operations: llmClientOperations,
  metrics: genAiClientOperationDuration,
};

/**
 * Builds the `LlmClient` port around a backend once for every adapter: validation before
 * any I/O, `guard()` for each call (a stream is retried only before its first delta), a
 * per-chunk stall deadline for streams, and token usage metrics.
 */
export function guardLlmClient(
  adapter: LlmAdapter,
  options: GuardedLlmClientOptions,
  runtime: Runtime,
): LlmClient {
  const guard = Guard.forAdapter(llmPort, adapter, options, runtime);
  const tokens = tokenUsageHistogram(runtime.registry);
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
  const logContent = options.logContent === true;
  const streams = new Set<AbortController>();

  // Messages name paths and limits, never the values: a prompt is not for logs.
  const validate = (operation: LlmOperation, request: LlmRequest): LlmAdapterRequest => {
    if (typeof request !== 'object' || request === null)
      throw guard.invalid(operation, 'request', 'must be an object');
    const { messages, temperature, maxTokens, stop, responseFormat } = request;
    if (!Array.isArray(messages) || messages.length === 0)
      throw guard.invalid(operation, 'messages', 'must be a non-empty array');
    (messages as readonly unknown[]).forEach((entry, index) => {
      const message = entry as { role?: unknown; content?: unknown } | null;
      if (
        typeof message !== 'object' ||
        message === null ||
        typeof message.role !== 'string' ||
        !roles.has(message.role)
      )
        throw guard.invalid(operation, `messages.${index}.role`, 'must be system, user or assistant');
      if (typeof message.content !== 'string')
        throw guard.invalid(operation, `messages.${index}.content`, 'must be a string');
    });
    const model = request.model ?? adapter.defaultModel;
    if (typeof model !== 'string' || model.length === 0 || model.length > 256)
      throw guard.invalid(operation, 'model', 'must be given, in the request or as the client option');
    if (
      temperature !== undefined &&
      !(typeof temperature === 'number' && temperature >= 0 && temperature <= 2)
    )
      throw guard.invalid(operation, 'temperature', 'must be a number from 0 to 2');
    if (maxTokens !== undefined && !(Number.isSafeInteger(maxTokens) && maxTokens > 0))
      throw guard.invalid(operation, 'maxTokens', 'must be a positive integer');
    if (
      stop !== undefined &&
      !(Array.isArray(stop) && stop.every((s) => typeof s === 'string' && s.length > 0))
    )
      throw guard.invalid(operation, 'stop', 'must be an array of non-empty strings');
    if (
      stop !== undefined &&
      adapter.maxStopSequences !== undefined &&
      stop.length > adapter.maxStopSequences
    )
      throw guard.invalid(
        operation,
        'stop',
        `${adapter.system} accepts at most ${adapter.maxStopSequences} sequences`,
      );
    if (
      responseFormat !== undefined &&
      (responseFormat.type !== 'json_schema' ||
        typeof responseFormat.schema !== 'object' ||
        responseFormat.schema === null ||
        Array.isArray(responseFormat.schema))
    )
      throw guard.invalid(operation, 'responseFormat', 'must be { type: "json_schema", schema: object }');
    const given: Record<LlmOption, unknown> = { temperature, maxTokens, stop, responseFormat };
    for (const option of adapter.unsupported) {
      if (given[option] !== undefined)
        throw guard.invalid(operation, option, `is not supported by ${adapter.system}`);
    }
    return { messages, model, temperature, maxTokens, stop, responseFormat };
  };

  const labelsOf = (request: LlmAdapterRequest) => (): Record<string, string> => ({
    [attributes.genAiRequestModel]: request.model,
  });

  // The conventions' span: `chat <model>`, the request's model, and usage once the reply is in.
  const spanOf = (request: LlmAdapterRequest): CallSpan<LlmResult> => ({
    target: request.model,
    attributes: { [spanAttributes.genAiRequestModel]: request.model },
    result: (reply) => ({
      [spanAttributes.genAiResponseModel]: reply.model,
      [spanAttributes.genAiResponseFinishReasons]: [reply.finishReason],
      [spanAttributes.genAiUsageInputTokens]: reply.usage.inputTokens,
      [spanAttributes.genAiUsageOutputTokens]: reply.usage.outputTokens,
    }),
  });

  const finish = (
    operation: LlmOperation,
    request: LlmAdapterRequest,
    completion: LlmCompletion,
    started: number,
  ): LlmResult => {
    const labels = {
      [attributes.genAiProviderName]: adapter.system,
      [attributes.genAiOperationName]: operation,
      [attributes.genAiRequestModel]: request.model,
      [attributes.component]: guard.id,
    };
    tokens.observe({ ...labels, [attributes.genAiTokenType]: 'input' }, completion.usage.inputTokens);
    tokens.observe({ ...labels, [attributes.genAiTokenType]: 'output' }, completion.usage.outputTokens);
    if (logContent) guard.logger.debug({ operation, completion: completion.text }, 'completion');
    return { ...completion, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  };

  const logPrompt = (operation: LlmOperation, request: LlmAdapterRequest): void => {
    if (logContent)
      guard.logger.debug({ operation, model: request.model, messages: request.messages }, 'prompt');
  };

  const stream = (request: LlmRequest): LlmStream => {
    const started = performance.now();
    const chunks: string[] = [];
    let state: 'running' | 'done' | 'failed' = 'running';
    let failure: unknown;
    let wake: (() => void) | undefined;
    let iterated = false;
    const cancel = new AbortController();
    let resolveResult: (result: LlmResult) => void = noop;
    let rejectResult: (error: unknown) => void = noop;
    const result = new Promise<LlmResult>((resolve, reject) => {
      resolveResult = resolve;
      rejectResult = reject;
    });
    // The iteration throws the same failure; a result nobody reads must not crash the process.
    result.catch(noop);
    const notify = (): void => {
      const waiting = wake;
      wake = undefined;
      waiting?.();
    };
    const fail = (error: unknown): void => {
      if (state !== 'running') return;
      state = 'failed';
      failure = error;
      streams.delete(cancel);
      cancel.abort(error);
      rejectResult(error);
      notify();
    };

    const pump = async (): Promise<void> => {
      const validated = validate('stream', request);
      logPrompt('stream', validated);
      streams.add(cancel);
      const signal = request.signal ? AbortSignal.any([request.signal, cancel.signal]) : cancel.signal;
      const opened = await guard.run(
        'stream',
        { signal, ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }) },
        async (ctx) => {
          const events = adapter.stream(validated, AbortSignal.any([ctx.signal, signal]));
          const iterator = events[Symbol.asyncIterator]();
          return { iterator, first: await iterator.next() };
        },
        undefined,
        labelsOf(validated),
        { target: validated.model, attributes: { [spanAttributes.genAiRequestModel]: validated.model } },
      );
      const iterator: AsyncIterator<LlmStreamEvent> = opened.iterator;
      let next = opened.first;
      const stall = setTimeout(
        () => fail(guard.error('timeout', 'stream', `no data for ${stallTimeoutMs} ms`)),
        stallTimeoutMs,
      );
      const onAbort = (): void => fail(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        while (state === 'running') {
          if (next.done === true)
            throw guard.error('unavailable', 'stream', 'stream ended before the reply was complete');
          const event = next.value;
          if (event.type === 'done') {
            const text = chunks.join('');
            const done = finish('stream', validated, { ...event, text }, started);
            state = 'done';
            streams.delete(cancel);
            resolveResult(done);
            notify();
            return;
          }
          if (event.text.length > 0) {
            chunks.push(event.text);
            notify();
          }
          stall.refresh();
          next = await iterator.next();
        }
      } catch (error) {
        // Once data was yielded the call is not repeated: the consumer has acted on it.
        if (state === 'running') {
          const infra = guard.toInfraError('stream', error);
          guard.logger.debug({ err: infra, operation: 'stream' }, 'stream failed');
          fail(infra);
        }
      } finally {
        clearTimeout(stall);
        signal.removeEventListener('abort', onAbort);
        if (state !== 'done') void iterator.return?.()?.catch(noop);
      }
    };
    pump().catch(fail);

    return {
      result,
      async *[Symbol.asyncIterator](): AsyncGenerator<string, void, undefined> {
        if (iterated) throw guard.error('validation', 'stream', 'a stream can be iterated only once');
        iterated = true;
        let index = 0;
        try {
          for (;;) {
            if (index < chunks.length) {
              yield chunks[index++]!;
              continue;
            }
            if (state === 'failed') throw failure;
            if (state === 'done') return;
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        } finally {
          if (state === 'running')
            fail(new DOMException('The stream was cancelled by its consumer', 'AbortError'));
        }
      },
    };
  };

  const client: LlmClient = {
    ...guard.component(adapter, () => {
      for (const controller of streams)
        controller.abort(guard.error('closed', 'stream', 'component is closed'));
      streams.clear();
    }),
    generate(request: LlmRequest): Promise<LlmResult> {
      let validated: LlmAdapterRequest;
      try {
        validated = validate('generate', request);
      } catch (error) {
        return Promise.reject(error);
      }
      logPrompt('generate', validated);
      const started = performance.now();
      return guard.run(
        'generate',
        request,
        (ctx) => adapter.generate(validated, ctx),
        (completion) => finish('generate', validated, completion, started),
        labelsOf(validated),
        spanOf(validated),
      );
    },
    stream,
  };
  return client;
}
