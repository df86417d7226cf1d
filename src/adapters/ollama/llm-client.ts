import { Ollama, type ChatRequest } from 'ollama';
import type { HealthResult, OperationContext } from '../../ports/component.ts';
import { InfraError } from '../../ports/errors.ts';
import type {
  LlmAdapter,
  LlmAdapterRequest,
  LlmClient,
  LlmCompletion,
  LlmFinishReason,
  LlmStreamEvent,
} from '../../ports/llm-client.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { llmDefaultTimeoutMs } from '../../runtime/llm/llm-options.ts';
import { ollamaClientOptionsSchema, type OllamaClientOptions } from './options.ts';
import { guardLlmClient } from '../../runtime/llm/guarded-llm-client.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { serverOfUrl } from '../../runtime/telemetry/server-info.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { classifyOllamaError } from './errors.ts';

function finishReason(reason: string | undefined): LlmFinishReason {
  if (reason === 'stop' || reason === 'length') return reason;
  return 'other';
}

class OllamaAdapter implements LlmAdapter {
  readonly system = 'ollama';
  readonly defaultModel: string | undefined;
  readonly unsupported = [] as const;
  readonly client: Ollama;
  readonly #host: string;
  readonly #keepAlive: string | number | undefined;

  constructor(host: string, defaultModel: string | undefined, keepAlive: string | number | undefined) {
    this.#host = host;
    this.defaultModel = defaultModel;
    this.#keepAlive = keepAlive;
    this.client = new Ollama({ host });
  }

  // ollama-js passes no signal to non-streamed calls, so each call gets a client whose fetch has one.
  #withSignal(signal: AbortSignal): Ollama {
    return new Ollama({
      host: this.#host,
      fetch: (input, init) =>
        fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }),
    });
  }

  #body(request: LlmAdapterRequest): ChatRequest {
    const options = {
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.maxTokens === undefined ? {} : { num_predict: request.maxTokens }),
      ...(request.stop === undefined ? {} : { stop: [...request.stop] }),
    };
    return {
      model: request.model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      options,
      ...(request.responseFormat === undefined ? {} : { format: request.responseFormat.schema }),
      ...(this.#keepAlive === undefined ? {} : { keep_alive: this.#keepAlive }),
    };
  }

  async generate(request: LlmAdapterRequest, ctx: OperationContext): Promise<LlmCompletion> {
    const reply = await this.#withSignal(ctx.signal).chat({ ...this.#body(request), stream: false });
    if (typeof reply?.message?.content !== 'string')
      throw new InfraError('internal', 'malformed response: no message');
    return {
      text: reply.message.content,
      model: typeof reply.model === 'string' ? reply.model : request.model,
      finishReason: finishReason(reply.done_reason),
      usage: { inputTokens: reply.prompt_eval_count ?? 0, outputTokens: reply.eval_count ?? 0 },
    };
  }

  async *stream(request: LlmAdapterRequest, signal: AbortSignal): AsyncGenerator<LlmStreamEvent> {
    const parts = await this.#withSignal(signal).chat({ ...this.#body(request), stream: true });
    for await (const part of parts) {
      const text = part.message?.content;
      if (typeof text === 'string' && text !== '') yield { type: 'delta', text };
      if (part.done) {
        yield {
          type: 'done',
          model: typeof part.model === 'string' ? part.model : request.model,
          finishReason: finishReason(part.done_reason),
          usage: { inputTokens: part.prompt_eval_count ?? 0, outputTokens: part.eval_count ?? 0 },
        };
        return;
      }
    }
    throw new InfraError('unavailable', 'stream ended before the reply was complete');
  }

  async probe(signal: AbortSignal): Promise<HealthResult> {
    const { version } = await this.#withSignal(signal).version();
    return { status: 'up', details: { version } };
  }

  classifyError = classifyOllamaError;

  close(): Promise<void> {
    this.client.abort();
    return Promise.resolve();
  }
}

export interface OllamaClient extends LlmClient {
  /** The `ollama` SDK client, for APIs the port does not cover. */
  client(): Ollama;
}

/** An `LlmClient` over an Ollama server's chat API. */
export function createOllamaClient(
  options: OllamaClientOptions = {},
  runtime: Runtime = defaultRuntime(),
): OllamaClient {
  const parsed = parseOptions(ollamaClientOptionsSchema, options, 'ollama client options');
  const adapter = new OllamaAdapter(parsed.host, parsed.model, parsed.keepAlive);
  const llm = guardLlmClient(
    adapter,
    {
      id: parsed.id,
      server: serverOfUrl(parsed.host),
      policies: { ...parsed.policies, timeoutMs: parsed.policies?.timeoutMs ?? llmDefaultTimeoutMs },
      stallTimeoutMs: parsed.stallTimeoutMs,
      logContent: parsed.logContent,
    },
    runtime,
  );
  return extendPort(llm, { client: () => adapter.client });
}
