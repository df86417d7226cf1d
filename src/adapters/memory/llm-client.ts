import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthResult } from '../../ports/component.ts';
import { InfraError, type ErrorReason } from '../../ports/errors.ts';
import type {
  LlmAdapter,
  LlmAdapterEmbedding,
  LlmAdapterEmbedRequest,
  LlmAdapterRequest,
  LlmAdapterToolCall,
  LlmClient,
  LlmCompletion,
  LlmFinishReason,
  LlmOption,
  LlmStreamEvent,
} from '../../ports/llm-client.ts';
import type { PolicyOverrides } from '../../runtime/runtime.ts';
import { guardLlmClient } from '../../runtime/llm/guarded-llm-client.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';

/** One scripted answer: a reply, or a failure with a reason. */
export type ScriptedLlmReply =
  | {
      text: string;
      /** The deltas a stream yields; default the text split after each space. */
      chunks?: readonly string[];
      finishReason?: LlmFinishReason;
      model?: string;
      usage?: { inputTokens: number; outputTokens: number };
      /** Tool calls the model asks for; `arguments` is sent as given (a string is taken as JSON text). */
      toolCalls?: readonly { id?: string; name: string; arguments: unknown }[];
      delayMs?: number;
    }
  | { error: ErrorReason; retryAfterMs?: number; delayMs?: number };

export interface MemoryLlmClientOptions {
  id?: string;
  model?: string;
  /** Answers in order, one per call; when none are left, the client echoes (or fails, with `echo: false`). */
  replies?: readonly (ScriptedLlmReply | ((request: LlmAdapterRequest) => ScriptedLlmReply))[];
  /** Replies with the last user message. Default true. */
  echo?: boolean;
  /** Options to reject as unsupported, to mimic a provider. */
  unsupported?: readonly LlmOption[];
  /** Embeddings: true (default) for deterministic vectors of `embeddingDimensions` (default 8) numbers. */
  embeddings?: boolean;
  embeddingDimensions?: number;
  /** Texts per embedding request; default 16, so that batching shows in tests. */
  embeddingBatchSize?: number;
  stallTimeoutMs?: number;
  policies?: PolicyOverrides;
}

export interface MemoryLlmClient extends LlmClient {
  /** Every request that reached the backend, retries included. */
  readonly requests: readonly LlmAdapterRequest[];
  /** Every embedding batch that reached the backend. */
  readonly embedRequests: readonly LlmAdapterEmbedRequest[];
}

const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;

class MemoryLlmAdapter implements LlmAdapter {
  readonly system = 'memory';
  readonly defaultModel: string;
  readonly unsupported: readonly LlmOption[];
  readonly requests: LlmAdapterRequest[] = [];
  readonly embedRequests: LlmAdapterEmbedRequest[] = [];
  readonly maxEmbeddingBatch: number | undefined;
  readonly defaultEmbeddingModel = 'memory-embedding';
  readonly #dimensions: number;
  readonly #replies: (ScriptedLlmReply | ((request: LlmAdapterRequest) => ScriptedLlmReply))[];
  readonly #echo: boolean;

  constructor(options: MemoryLlmClientOptions) {
    this.defaultModel = options.model ?? 'memory';
    this.unsupported = options.unsupported ?? [];
    this.#replies = [...(options.replies ?? [])];
    this.#echo = options.echo ?? true;
    this.maxEmbeddingBatch = options.embeddings === false ? undefined : (options.embeddingBatchSize ?? 16);
    this.#dimensions = options.embeddingDimensions ?? 8;
  }

  async #answer(
    request: LlmAdapterRequest,
    signal: AbortSignal,
  ): Promise<LlmCompletion & { chunks: string[]; toolCalls: LlmAdapterToolCall[] }> {
    this.requests.push(request);
    const next = this.#replies.shift();
    const reply: ScriptedLlmReply =
      typeof next === 'function' ? next(request) : (next ?? this.#echoReply(request));
    if (reply.delayMs !== undefined) await sleep(reply.delayMs, undefined, { signal });
    if ('error' in reply)
      throw new InfraError(reply.error, `scripted ${reply.error}`, {
        ...(reply.retryAfterMs === undefined ? {} : { retryAfterMs: reply.retryAfterMs }),
      });
    let text = reply.text;
    let finishReason = reply.finishReason ?? 'stop';
    for (const stop of request.stop ?? []) {
      const at = text.indexOf(stop);
      if (at >= 0) text = text.slice(0, at);
    }
    if (request.maxTokens !== undefined && words(text) > request.maxTokens) {
      text = text
        .split(/(?<=\s)/)
        .slice(0, request.maxTokens)
        .join('');
      finishReason = 'length';
    }
    const input = request.messages.reduce((sum, m) => sum + words(m.content), 0);
    const toolCalls = (reply.toolCalls ?? []).map((call, index) => ({
      id: call.id ?? `call_${index}`,
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
    }));
    if (toolCalls.length > 0 && reply.finishReason === undefined) finishReason = 'tool_calls';
    return {
      text,
      toolCalls,
      chunks: text === reply.text && reply.chunks ? [...reply.chunks] : text.split(/(?<=\s)/),
      model: reply.model ?? request.model,
      finishReason,
      usage: reply.usage ?? { inputTokens: input, outputTokens: Math.max(words(text), toolCalls.length) },
    };
  }

  // With tools, the echo calls one with the user's message as JSON arguments, then repeats its result.
  #echoReply(request: LlmAdapterRequest): ScriptedLlmReply {
    if (!this.#echo) return { error: 'internal' };
    const latest = request.messages.at(-1);
    if (latest?.role === 'tool') return { text: latest.content };
    const last = request.messages.findLast((m) => m.role === 'user');
    const tool = echoedTool(request);
    if (tool === undefined) return { text: last?.content ?? '' };
    return { text: '', toolCalls: [{ id: 'call_0', name: tool, arguments: last?.content ?? '{}' }] };
  }

  async generate(request: LlmAdapterRequest, ctx: { signal: AbortSignal }): Promise<LlmCompletion> {
    const { chunks: _chunks, ...completion } = await this.#answer(request, ctx.signal);
    return completion;
  }

  async *stream(request: LlmAdapterRequest, signal: AbortSignal): AsyncGenerator<LlmStreamEvent> {
    const { chunks, text: _text, toolCalls, ...done } = await this.#answer(request, signal);
    for (const text of chunks) {
      signal.throwIfAborted();
      if (text !== '') yield { type: 'delta', text };
      await Promise.resolve();
    }
    // Arguments in two pieces, as providers stream them.
    for (const [index, call] of toolCalls.entries()) {
      const half = Math.floor(call.arguments.length / 2);
      yield {
        type: 'tool_call_delta',
        index,
        id: call.id,
        name: call.name,
        arguments: call.arguments.slice(0, half),
      };
      yield { type: 'tool_call_delta', index, arguments: call.arguments.slice(half) };
    }
    yield { type: 'done', ...done };
  }

  embed(request: LlmAdapterEmbedRequest, ctx: { signal: AbortSignal }): Promise<LlmAdapterEmbedding> {
    ctx.signal.throwIfAborted();
    this.embedRequests.push(request);
    const dimensions = request.dimensions ?? this.#dimensions;
    return Promise.resolve({
      vectors: request.texts.map((text) => memoryVector(text, dimensions)),
      model: request.model,
      inputTokens: request.texts.reduce((sum, text) => sum + Math.max(1, words(text)), 0),
    });
  }

  probe(): Promise<HealthResult> {
    return Promise.resolve({ status: 'up' });
  }

  classifyError(): { reason: ErrorReason } {
    return { reason: 'internal' };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function echoedTool(request: LlmAdapterRequest): string | undefined {
  const { tools, toolChoice } = request;
  if (tools === undefined || toolChoice === 'none') return undefined;
  return typeof toolChoice === 'object' ? toolChoice.name : tools[0]?.name;
}

/** A unit vector that depends on the text alone: equal texts, equal vectors. */
export function memoryVector(text: string, dimensions: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dimensions; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (let at = 0; at + 4 <= digest.length && values.length < dimensions; at += 4)
      values.push(digest.readInt32BE(at) / 2 ** 31);
  }
  const norm = Math.hypot(...values) || 1;
  return values.map((value) => value / norm);
}

/** An in-memory `LlmClient`: scripted replies, else an echo of the last user message. */
export function createMemoryLlmClient(
  options: MemoryLlmClientOptions = {},
  runtime: Runtime = defaultRuntime(),
): MemoryLlmClient {
  const adapter = new MemoryLlmAdapter(options);
  const llm = guardLlmClient(
    adapter,
    { id: options.id, policies: options.policies, stallTimeoutMs: options.stallTimeoutMs },
    runtime,
  );
  return extendPort(llm, { requests: adapter.requests, embedRequests: adapter.embedRequests });
}
