import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthResult } from '../../ports/component.ts';
import { InfraError, type ErrorReason } from '../../ports/errors.ts';
import type {
  LlmAdapter,
  LlmAdapterRequest,
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
  stallTimeoutMs?: number;
  policies?: PolicyOverrides;
}

export interface MemoryLlmClient extends LlmClient {
  /** Every request that reached the backend, retries included. */
  readonly requests: readonly LlmAdapterRequest[];
}

const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;

class MemoryLlmAdapter implements LlmAdapter {
  readonly system = 'memory';
  readonly defaultModel: string;
  readonly unsupported: readonly LlmOption[];
  readonly requests: LlmAdapterRequest[] = [];
  readonly #replies: (ScriptedLlmReply | ((request: LlmAdapterRequest) => ScriptedLlmReply))[];
  readonly #echo: boolean;

  constructor(options: MemoryLlmClientOptions) {
    this.defaultModel = options.model ?? 'memory';
    this.unsupported = options.unsupported ?? [];
    this.#replies = [...(options.replies ?? [])];
    this.#echo = options.echo ?? true;
  }

  async #answer(
    request: LlmAdapterRequest,
    signal: AbortSignal,
  ): Promise<LlmCompletion & { chunks: string[] }> {
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
    return {
      text,
      chunks: text === reply.text && reply.chunks ? [...reply.chunks] : text.split(/(?<=\s)/),
      model: reply.model ?? request.model,
      finishReason,
      usage: reply.usage ?? { inputTokens: input, outputTokens: words(text) },
    };
  }

  #echoReply(request: LlmAdapterRequest): ScriptedLlmReply {
    if (!this.#echo) return { error: 'internal' };
    const last = request.messages.findLast((m) => m.role === 'user');
    return { text: last?.content ?? '' };
  }

  async generate(request: LlmAdapterRequest, ctx: { signal: AbortSignal }): Promise<LlmCompletion> {
    const { chunks: _chunks, ...completion } = await this.#answer(request, ctx.signal);
    return completion;
  }

  async *stream(request: LlmAdapterRequest, signal: AbortSignal): AsyncGenerator<LlmStreamEvent> {
    const { chunks, text: _text, ...done } = await this.#answer(request, signal);
    for (const text of chunks) {
      signal.throwIfAborted();
      if (text !== '') yield { type: 'delta', text };
      await Promise.resolve();
    }
    yield { type: 'done', ...done };
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
  return extendPort(llm, { requests: adapter.requests });
}
