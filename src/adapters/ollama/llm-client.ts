import { Ollama, type ChatRequest, type Message, type ToolCall } from 'ollama';
import type { HealthResult, OperationContext } from '../../ports/component.ts';
import { InfraError } from '../../ports/errors.ts';
import type {
  LlmAdapter,
  LlmAdapterEmbedding,
  LlmAdapterEmbedRequest,
  LlmAdapterRequest,
  LlmAdapterToolCall,
  LlmClient,
  LlmCompletion,
  LlmFinishReason,
  LlmMessage,
  LlmStreamEvent,
} from '../../ports/llm-client.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { embeddingBatch, llmDefaultTimeoutMs } from '../../runtime/llm/llm-options.ts';
import { ollamaClientOptionsSchema, type OllamaClientOptions, type ParsedOllamaOptions } from './options.ts';
import { guardLlmClient } from '../../runtime/llm/guarded-llm-client.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { serverOfUrl } from '../../runtime/telemetry/server-info.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { classifyOllamaError } from './errors.ts';

// Ollama takes any number of inputs; this keeps one request's body and its reply to a few MB.
const ollamaEmbeddingLimit = 512;

function finishReason(reason: string | undefined, calls: readonly unknown[] | undefined): LlmFinishReason {
  // Ollama says `stop` after a tool call; the port says why the reply ended.
  if (calls !== undefined && calls.length > 0) return 'tool_calls';
  if (reason === 'stop' || reason === 'length') return reason;
  return 'other';
}

// Ollama's tool calls carry no id: berth numbers them, and a tool result names its tool instead.
function toolCalls(calls: readonly ToolCall[] | undefined, from = 0): LlmAdapterToolCall[] {
  return (calls ?? []).map((call, index) => ({
    id: `call_${from + index}`,
    name: call.function.name,
    arguments: JSON.stringify(call.function.arguments ?? {}),
  }));
}

function ollamaMessages(messages: readonly LlmMessage[]): Message[] {
  const names = new Map<string, string>();
  return messages.map((m): Message => {
    for (const call of m.toolCalls ?? []) names.set(call.id, call.name);
    if (m.role === 'tool') {
      const name = names.get(m.toolCallId ?? '');
      return { role: 'tool', content: m.content, ...(name === undefined ? {} : { tool_name: name }) };
    }
    if (m.toolCalls === undefined || m.toolCalls.length === 0) return { role: m.role, content: m.content };
    return {
      role: m.role,
      content: m.content,
      tool_calls: m.toolCalls.map((call) => ({
        function: { name: call.name, arguments: (call.arguments ?? {}) as Record<string, unknown> },
      })),
    };
  });
}

class OllamaAdapter implements LlmAdapter {
  readonly system = 'ollama';
  readonly defaultModel: string | undefined;
  readonly unsupported = [] as const;
  readonly defaultEmbeddingModel: string | undefined;
  readonly maxEmbeddingBatch: number;
  readonly client: Ollama;
  readonly #host: string;
  readonly #keepAlive: string | number | undefined;

  constructor(options: ParsedOllamaOptions) {
    this.#host = options.host;
    this.defaultModel = options.model;
    this.defaultEmbeddingModel = options.embeddingModel;
    this.maxEmbeddingBatch = embeddingBatch(options.embeddingBatchSize, ollamaEmbeddingLimit);
    this.#keepAlive = options.keepAlive;
    this.client = new Ollama({ host: options.host });
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
      messages: ollamaMessages(request.messages),
      options,
      ...(request.responseFormat === undefined ? {} : { format: request.responseFormat.schema }),
      // Ollama has no tool choice: `none` sends no tools, the others leave the choice to the model.
      ...(request.tools === undefined || request.toolChoice === 'none'
        ? {}
        : {
            tools: request.tools.map((tool) => ({
              type: 'function',
              function: { name: tool.name, description: tool.description ?? '', parameters: tool.parameters },
            })),
          }),
      ...(this.#keepAlive === undefined ? {} : { keep_alive: this.#keepAlive }),
    };
  }

  async generate(request: LlmAdapterRequest, ctx: OperationContext): Promise<LlmCompletion> {
    const reply = await this.#withSignal(ctx.signal).chat({ ...this.#body(request), stream: false });
    if (typeof reply?.message?.content !== 'string')
      throw new InfraError('internal', 'malformed response: no message');
    return {
      text: reply.message.content,
      toolCalls: toolCalls(reply.message.tool_calls),
      model: typeof reply.model === 'string' ? reply.model : request.model,
      finishReason: finishReason(reply.done_reason, reply.message.tool_calls),
      usage: { inputTokens: reply.prompt_eval_count ?? 0, outputTokens: reply.eval_count ?? 0 },
    };
  }

  async *stream(request: LlmAdapterRequest, signal: AbortSignal): AsyncGenerator<LlmStreamEvent> {
    const parts = await this.#withSignal(signal).chat({ ...this.#body(request), stream: true });
    let calls = 0;
    for await (const part of parts) {
      const text = part.message?.content;
      if (typeof text === 'string' && text !== '') yield { type: 'delta', text };
      // Ollama sends each tool call whole, in the chunk where the model made it.
      for (const call of toolCalls(part.message?.tool_calls, calls))
        yield { type: 'tool_call_delta', index: calls++, ...call };
      if (part.done) {
        yield {
          type: 'done',
          model: typeof part.model === 'string' ? part.model : request.model,
          finishReason: calls > 0 ? 'tool_calls' : finishReason(part.done_reason, undefined),
          usage: { inputTokens: part.prompt_eval_count ?? 0, outputTokens: part.eval_count ?? 0 },
        };
        return;
      }
    }
    throw new InfraError('unavailable', 'stream ended before the reply was complete');
  }

  async embed(request: LlmAdapterEmbedRequest, ctx: OperationContext): Promise<LlmAdapterEmbedding> {
    const reply = await this.#withSignal(ctx.signal).embed({
      model: request.model,
      input: [...request.texts],
      ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
      ...(this.#keepAlive === undefined ? {} : { keep_alive: this.#keepAlive }),
    });
    if (!Array.isArray(reply?.embeddings))
      throw new InfraError('internal', 'malformed response: no embeddings');
    return {
      vectors: reply.embeddings,
      model: typeof reply.model === 'string' ? reply.model : request.model,
      inputTokens: reply.prompt_eval_count ?? 0,
    };
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
  const adapter = new OllamaAdapter(parsed);
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
