import { AzureOpenAI, OpenAI } from 'openai';
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import { chatBody, replyToolCalls } from './chat-body.ts';
import type { HealthResult, OperationContext } from '../../ports/component.ts';
import { InfraError } from '../../ports/errors.ts';
import type {
  LlmAdapter,
  LlmAdapterEmbedding,
  LlmAdapterEmbedRequest,
  LlmAdapterRequest,
  LlmClient,
  LlmCompletion,
  LlmFinishReason,
  LlmStreamEvent,
} from '../../ports/llm-client.ts';
import { Redacted } from '../../ports/redacted.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import {
  azureOpenAiClientOptionsSchema,
  openAiClientOptionsSchema,
  type AzureOpenAiClientOptions,
  type OpenAiClientOptions,
} from './options.ts';
import { embeddingBatch, llmDefaultTimeoutMs } from '../../runtime/llm/llm-options.ts';
import { type TokenCredentialLike } from '../../runtime/options/schema-pieces.ts';
import { guardLlmClient } from '../../runtime/llm/guarded-llm-client.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { serverOfUrl } from '../../runtime/telemetry/server-info.ts';
import type { ServerInfo } from '../../runtime/telemetry/server-info.ts';
import { defaultRuntime, type PolicyOverrides, type Runtime } from '../../runtime/runtime.ts';
import { classifyOpenAiError } from './errors.ts';

const finishReasons: Record<string, LlmFinishReason> = {
  stop: 'stop',
  length: 'length',
  content_filter: 'content_filter',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
};

const azureScope = 'https://cognitiveservices.azure.com/.default';
// OpenAI's documented limit of inputs in one embeddings request.
const openAiEmbeddingLimit = 2048;

interface AdapterSettings {
  model: string | undefined;
  embeddingModel: string | undefined;
  embeddingBatchSize: number | undefined;
  /** Azure's embeddings client: one that names no deployment, so the model picks it. */
  embeddings?: OpenAI | undefined;
  secret: string | undefined;
}

class OpenAiAdapter implements LlmAdapter {
  readonly system: string;
  readonly defaultModel: string | undefined;
  readonly unsupported = [] as const;
  readonly maxStopSequences = 4;
  readonly maxEmbeddingBatch: number;
  readonly defaultEmbeddingModel: string | undefined;
  readonly #client: OpenAI;
  readonly #embeddings: OpenAI | undefined;
  readonly #secret: string | undefined;

  constructor(system: string, client: OpenAI, settings: AdapterSettings) {
    this.system = system;
    this.#client = client;
    this.defaultModel = settings.model;
    this.defaultEmbeddingModel = settings.embeddingModel;
    this.maxEmbeddingBatch = embeddingBatch(settings.embeddingBatchSize, openAiEmbeddingLimit);
    this.#embeddings = settings.embeddings;
    this.#secret = settings.secret;
  }

  get client(): OpenAI {
    return this.#client;
  }

  async generate(request: LlmAdapterRequest, ctx: OperationContext): Promise<LlmCompletion> {
    const body: ChatCompletionCreateParamsNonStreaming = { ...chatBody(request), stream: false };
    const completion = await this.#client.chat.completions
      .create(body, { signal: ctx.signal, maxRetries: 0 })
      .catch((error: unknown) => this.#rethrow(error));
    const choice = completion.choices?.[0];
    if (choice === undefined || typeof completion.model !== 'string')
      throw new InfraError('internal', 'malformed response: no choices');
    return {
      text: choice.message?.content ?? '',
      toolCalls: replyToolCalls(choice.message),
      model: completion.model,
      finishReason: finishReasons[choice.finish_reason] ?? 'other',
      usage: {
        inputTokens: completion.usage?.prompt_tokens ?? 0,
        outputTokens: completion.usage?.completion_tokens ?? 0,
      },
    };
  }

  async *stream(request: LlmAdapterRequest, signal: AbortSignal): AsyncGenerator<LlmStreamEvent> {
    const body: ChatCompletionCreateParamsStreaming = {
      ...chatBody(request),
      stream: true,
      stream_options: { include_usage: true },
    };
    let model = request.model;
    let finishReason: LlmFinishReason | undefined;
    let usage = { inputTokens: 0, outputTokens: 0 };
    try {
      const chunks = await this.#client.chat.completions.create(body, { signal, maxRetries: 0 });
      for await (const chunk of chunks) {
        if (typeof chunk.model === 'string' && chunk.model !== '') model = chunk.model;
        if (chunk.usage)
          usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
        const choice = chunk.choices?.[0];
        if (choice?.finish_reason) finishReason = finishReasons[choice.finish_reason] ?? 'other';
        const text = choice?.delta?.content;
        if (typeof text === 'string' && text !== '') yield { type: 'delta', text };
        for (const call of choice?.delta?.tool_calls ?? [])
          yield {
            type: 'tool_call_delta',
            index: call.index,
            ...(call.id === undefined ? {} : { id: call.id }),
            ...(call.function?.name === undefined ? {} : { name: call.function.name }),
            ...(call.function?.arguments === undefined ? {} : { arguments: call.function.arguments }),
          };
      }
    } catch (error) {
      this.#rethrow(error);
    }
    if (finishReason === undefined)
      throw new InfraError('unavailable', 'stream ended before the reply was complete');
    yield { type: 'done', model, finishReason, usage };
  }

  async embed(request: LlmAdapterEmbedRequest, ctx: OperationContext): Promise<LlmAdapterEmbedding> {
    const reply = await (this.#embeddings ?? this.#client).embeddings
      .create(
        {
          model: request.model,
          input: [...request.texts],
          encoding_format: 'float',
          ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
        },
        { signal: ctx.signal, maxRetries: 0 },
      )
      .catch((error: unknown) => this.#rethrow(error));
    if (!Array.isArray(reply?.data)) throw new InfraError('internal', 'malformed response: no data');
    const vectors = [...reply.data].sort((a, b) => a.index - b.index).map((item) => item.embedding);
    return { vectors, model: reply.model ?? request.model, inputTokens: reply.usage?.prompt_tokens ?? 0 };
  }

  async probe(signal: AbortSignal): Promise<HealthResult> {
    await this.#client.models.list({ signal, maxRetries: 0 }).catch((error: unknown) => this.#rethrow(error));
    return { status: 'up' };
  }

  classifyError = classifyOpenAiError;

  close(): Promise<void> {
    return Promise.resolve();
  }

  // A provider may echo the key it refused (OpenAI prints part of it); no error leaves with it.
  #rethrow(error: unknown): never {
    const secret = this.#secret;
    if (secret !== undefined && error instanceof Error) {
      if (error.message.includes(secret)) error.message = error.message.replaceAll(secret, '<redacted>');
      if ('error' in error) (error as { error?: unknown }).error = undefined;
    }
    throw error;
  }
}

export interface OpenAiClient extends LlmClient {
  /** The `openai` SDK client, for APIs the port does not cover. */
  client(): OpenAI;
}

function reveal(secret: string | Redacted<string>): string {
  return secret instanceof Redacted ? secret.reveal() : secret;
}

function llmPolicies(policies: PolicyOverrides | undefined): PolicyOverrides {
  return { ...policies, timeoutMs: policies?.timeoutMs ?? llmDefaultTimeoutMs };
}

function build(
  adapter: OpenAiAdapter,
  parsed: {
    id?: string | undefined;
    stallTimeoutMs: number;
    logContent: boolean;
    policies?: PolicyOverrides | undefined;
  },
  runtime: Runtime,
  server: ServerInfo | undefined,
): OpenAiClient {
  const llm = guardLlmClient(
    adapter,
    {
      id: parsed.id,
      server,
      policies: llmPolicies(parsed.policies),
      stallTimeoutMs: parsed.stallTimeoutMs,
      logContent: parsed.logContent,
    },
    runtime,
  );
  return extendPort(llm, { client: () => adapter.client });
}

// guard owns retries and deadlines: the SDK's own would multiply them.
const sdkDefaults = { maxRetries: 0, timeout: 24 * 60 * 60 * 1000 } as const;

/** An `LlmClient` over the OpenAI chat completions API (or any server that speaks it). */
export function createOpenAiClient(
  options: OpenAiClientOptions,
  runtime: Runtime = defaultRuntime(),
): OpenAiClient {
  const parsed = parseOptions(openAiClientOptionsSchema, options, 'openai client options');
  const apiKey = reveal(parsed.apiKey);
  const baseUrl = parsed.baseUrl ?? parsed.baseURL;
  const client = new OpenAI({
    ...sdkDefaults,
    apiKey,
    ...(baseUrl === undefined ? {} : { baseURL: baseUrl }),
    ...(parsed.organization === undefined ? {} : { organization: parsed.organization }),
    ...(parsed.project === undefined ? {} : { project: parsed.project }),
  });
  const server = serverOfUrl(baseUrl ?? 'https://api.openai.com/v1');
  const adapter = new OpenAiAdapter('openai', client, {
    model: parsed.model,
    embeddingModel: parsed.embeddingModel ?? 'text-embedding-3-small',
    embeddingBatchSize: parsed.embeddingBatchSize,
    secret: apiKey,
  });
  return build(adapter, parsed, runtime, server);
}

/**
 * An `LlmClient` over an Azure OpenAI deployment, with an API key or a Microsoft Entra ID
 * credential (`@azure/identity`, loaded only then).
 */
export function createAzureOpenAiClient(
  options: AzureOpenAiClientOptions,
  runtime: Runtime = defaultRuntime(),
): OpenAiClient {
  const parsed = parseOptions(azureOpenAiClientOptionsSchema, options, 'azure openai client options');
  const apiKey = parsed.apiKey === undefined ? undefined : reveal(parsed.apiKey);
  const azure = (deployment: string | undefined): AzureOpenAI =>
    new AzureOpenAI({
      ...sdkDefaults,
      endpoint: parsed.endpoint,
      ...(deployment === undefined ? {} : { deployment }),
      apiVersion: parsed.apiVersion,
      ...(apiKey === undefined
        ? { azureADTokenProvider: bearerTokenProvider(parsed.credential!) }
        : { apiKey }),
    });
  const adapter = new OpenAiAdapter('azure.ai.openai', azure(parsed.deployment), {
    model: parsed.model ?? parsed.deployment,
    embeddingModel: parsed.embeddingModel,
    embeddingBatchSize: parsed.embeddingBatchSize,
    embeddings: azure(undefined),
    secret: apiKey,
  });
  return build(
    adapter,
    { ...parsed, id: parsed.id ?? 'llm:azure-openai' },
    runtime,
    serverOfUrl(parsed.endpoint),
  );
}

function bearerTokenProvider(credential: TokenCredentialLike): () => Promise<string> {
  let provider: (() => Promise<string>) | undefined;
  return async () => {
    // Imported on first use so `@azure/identity` stays an optional peer for key-based clients.
    provider ??= (await import('@azure/identity')).getBearerTokenProvider(credential, azureScope);
    return provider();
  };
}
