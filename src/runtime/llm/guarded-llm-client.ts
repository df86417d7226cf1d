import type { HealthResult } from '../../ports/component.ts';
import type { InfraError } from '../../ports/errors.ts';
import {
  llmClientPort,
  type LlmAdapter,
  type LlmAdapterRequest,
  type LlmClient,
  type LlmEmbedding,
  type LlmEmbedOptions,
  type LlmOperation,
  type LlmRequest,
  type LlmResult,
  type LlmStream,
} from '../../ports/llm-client.ts';
import { Guard, type GuardedOptions, type GuardedPort } from '../guard/guard.ts';
import { GuardedComponent } from '../guard/guarded-component.ts';
import { tokenUsageHistogram } from '../telemetry/metrics.ts';
import type { Runtime } from '../runtime.ts';
import { genAiClientOperationDuration } from '../telemetry/semconv.ts';
import { embedTexts } from './llm-embed.ts';
import { checkLlmRequest, estimateTokens, type CheckedLlmRequest } from './llm-request.ts';
import { GuardedLlmStream, type StreamContext } from './llm-stream.ts';
import { LlmTelemetry } from './llm-telemetry.ts';

export interface GuardedLlmClientOptions extends GuardedOptions {
  /** Longest wait for the next chunk once a stream has started; default 30 s. */
  stallTimeoutMs?: number | undefined;
  /** Logs prompts and completions at debug level; off by default, as they may hold personal data. */
  logContent?: boolean | undefined;
}

const llmPort: GuardedPort<LlmOperation> = {
  port: llmClientPort.name,
  idPrefix: llmClientPort.idPrefix,
  operations: llmClientPort.operations,
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
  return new GuardedLlmClient(
    Guard.forAdapter(llmPort, adapter, options, runtime),
    adapter,
    options,
    runtime,
  );
}

class GuardedLlmClient extends GuardedComponent<LlmOperation> implements LlmClient {
  readonly #guard: Guard<LlmOperation>;
  readonly #adapter: LlmAdapter;
  readonly #telemetry: LlmTelemetry;
  readonly #streams: StreamContext;
  readonly #invalid = (operation: string, path: string, message: string): InfraError =>
    this.#guard.invalid(operation, path, message);

  constructor(
    guard: Guard<LlmOperation>,
    adapter: LlmAdapter,
    options: GuardedLlmClientOptions,
    runtime: Runtime,
  ) {
    super(guard);
    this.#guard = guard;
    this.#adapter = adapter;
    const tokens = tokenUsageHistogram(runtime.registry);
    this.#telemetry = new LlmTelemetry(guard, adapter.system, tokens, options.logContent === true);
    this.#streams = {
      guard,
      adapter,
      telemetry: this.#telemetry,
      check: (request) => this.#check('stream', request),
      running: new Set(),
      stallTimeoutMs: options.stallTimeoutMs ?? 30_000,
    };
  }

  readonly generate = (request: LlmRequest): Promise<LlmResult> => {
    let checked: CheckedLlmRequest;
    try {
      checked = this.#check('generate', request);
    } catch (error) {
      return Promise.reject(error);
    }
    const validated: LlmAdapterRequest = checked.request;
    this.#telemetry.prompt('generate', validated);
    const started = performance.now();
    const cost = { tokens: estimateTokens(validated) };
    return this.#guard.run(
      'generate',
      request,
      async (ctx) => {
        const completion = await this.#adapter.generate(validated, ctx);
        // A reply whose arguments break a tool's schema is the model's answer: validation, never retried.
        const toolCalls = await checked.tools.check('generate', completion.toolCalls, this.#invalid);
        return { ...completion, toolCalls };
      },
      (completion) => {
        this.#guard.correctCost(cost, completion.usage.inputTokens + completion.usage.outputTokens);
        return this.#telemetry.finish('generate', validated, completion, started);
      },
      this.#telemetry.labels(validated),
      this.#telemetry.span(validated),
      cost,
    );
  };

  readonly stream = (request: LlmRequest): LlmStream => new GuardedLlmStream(request, this.#streams);

  readonly embed = (texts: readonly string[], options?: LlmEmbedOptions): Promise<LlmEmbedding> =>
    embedTexts(this.#guard, this.#adapter, this.#telemetry, texts, options);

  protected override probe(signal: AbortSignal): Promise<HealthResult> {
    return this.#adapter.probe(signal);
  }

  protected override closeAdapter(): Promise<void> {
    return this.#adapter.close();
  }

  protected override beforeClose(): void {
    const { running } = this.#streams;
    for (const controller of running)
      controller.abort(this.#guard.error('closed', 'stream', 'component is closed'));
    running.clear();
  }

  #check(operation: LlmOperation, request: LlmRequest): CheckedLlmRequest {
    return checkLlmRequest(operation, request, this.#adapter, this.#invalid);
  }
}
