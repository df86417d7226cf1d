import type { LlmAdapterRequest, LlmOperation, LlmResult } from '../../ports/llm-client.ts';
import type { Guard } from '../guard/guard.ts';
import type { Histogram } from 'prom-client';
import { attributes, genAiOperationNames, spanAttributes } from '../telemetry/semconv.ts';
import type { CallSpan } from '../telemetry/tracing.ts';

/** What an LLM call tells beyond guard's duration: the model as a label, token usage, and content when asked for. */
export class LlmTelemetry {
  readonly #guard: Guard<LlmOperation>;
  readonly #system: string;
  readonly #tokens: Histogram;
  readonly #logContent: boolean;

  constructor(guard: Guard<LlmOperation>, system: string, tokens: Histogram, logContent: boolean) {
    this.#guard = guard;
    this.#system = system;
    this.#tokens = tokens;
    this.#logContent = logContent;
  }

  labels(request: LlmAdapterRequest): () => Record<string, string> {
    return () => ({ [attributes.genAiRequestModel]: request.model });
  }

  // The conventions' span: `chat <model>`, the request's model, and usage once the reply is in.
  span(request: LlmAdapterRequest): CallSpan<LlmResult> {
    return {
      target: request.model,
      attributes: { [spanAttributes.genAiRequestModel]: request.model },
      result: (reply) => ({
        [spanAttributes.genAiResponseModel]: reply.model,
        [spanAttributes.genAiResponseFinishReasons]: [reply.finishReason],
        [spanAttributes.genAiUsageInputTokens]: reply.usage.inputTokens,
        [spanAttributes.genAiUsageOutputTokens]: reply.usage.outputTokens,
      }),
    };
  }

  prompt(operation: LlmOperation, request: LlmAdapterRequest): void {
    if (this.#logContent)
      this.#guard.logger.debug({ operation, model: request.model, messages: request.messages }, 'prompt');
  }

  /** The result of a completion: its token usage recorded, its latency since `started`. */
  finish(
    operation: LlmOperation,
    request: LlmAdapterRequest,
    completion: Omit<LlmResult, 'latencyMs' | 'provider'>,
    started: number,
  ): LlmResult {
    this.tokens(operation, request.model, completion.usage.inputTokens, completion.usage.outputTokens);
    if (this.#logContent)
      this.#guard.logger.debug(
        { operation, completion: completion.text, toolCalls: completion.toolCalls },
        'completion',
      );
    return { ...completion, provider: this.#guard.id, latencyMs: latencySince(started) };
  }

  /** Token usage of one call; an embedding has no output tokens. */
  tokens(operation: LlmOperation, model: string, input: number, output: number | undefined): void {
    const labels = {
      [attributes.genAiProviderName]: this.#system,
      [attributes.genAiOperationName]: genAiOperationNames[operation] ?? operation,
      [attributes.genAiRequestModel]: model,
      [attributes.component]: this.#guard.id,
    };
    this.#tokens.observe({ ...labels, [attributes.genAiTokenType]: 'input' }, input);
    if (output !== undefined)
      this.#tokens.observe({ ...labels, [attributes.genAiTokenType]: 'output' }, output);
  }
}

export function latencySince(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
