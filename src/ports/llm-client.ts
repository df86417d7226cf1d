import type {
  Component,
  HealthResult,
  OperationContext,
  OperationOptions,
  OperationSpecs,
  PortDefinition,
} from './component.ts';
import type { ErrorClassification } from './errors.ts';
import type { StandardSchemaV1 } from './standard-schema.ts';

export type LlmRole = 'system' | 'user' | 'assistant' | 'tool';

export interface LlmMessage {
  role: LlmRole;
  /** The text; for a `tool` message, the tool's result. */
  content: string;
  /** On an `assistant` message: the tool calls it made, sent back with the results that follow. */
  toolCalls?: readonly LlmToolCall[];
  /** On a `tool` message: the id of the call it answers. */
  toolCallId?: string;
}

/** A function the model may ask the application to call. */
export interface LlmTool {
  /** Letters, digits, `_` and `-`, at most 64, as providers require. */
  name: string;
  description?: string;
  /**
   * The arguments: a JSON Schema object, or a Standard Schema that can describe itself as one
   * (zod 4 does); its own `validate` then checks the arguments.
   */
  parameters: Record<string, unknown> | StandardSchemaV1;
}

/** How the model may use the tools: its choice, none, at least one, or the one named. */
export type LlmToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** A call the model asked for, its arguments parsed and checked against the tool's schema. */
export interface LlmToolCall {
  id: string;
  name: string;
  arguments: unknown;
}

/** Asks for a reply that is JSON matching `schema` (a JSON Schema object). */
export interface LlmJsonSchemaFormat {
  type: 'json_schema';
  /** A name for the schema, as some providers require one; default `response`. */
  name?: string;
  schema: Record<string, unknown>;
}

export interface LlmRequest extends OperationOptions {
  messages: readonly LlmMessage[];
  /** The model (for Azure: the deployment's model); default the client's `model` option. */
  model?: string;
  temperature?: number;
  maxTokens?: number;
  /** Sequences where the reply stops. */
  stop?: readonly string[];
  responseFormat?: LlmJsonSchemaFormat;
  tools?: readonly LlmTool[];
  /** Default `auto` when tools are given. */
  toolChoice?: LlmToolChoice;
}

/** Request options a provider may not support; using one it lacks fails with `validation`. */
export type LlmOption = 'temperature' | 'maxTokens' | 'stop' | 'responseFormat' | 'tools';

export type LlmFinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'other';

export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
}

/** A tool call as a backend reports it: the arguments still JSON text. */
export interface LlmAdapterToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** What a reply says, as a backend reports it. */
export interface LlmCompletion {
  text: string;
  /** The model that answered, as the provider names it. */
  model: string;
  finishReason: LlmFinishReason;
  usage: LlmUsage;
  toolCalls?: readonly LlmAdapterToolCall[];
}

export interface LlmResult extends Omit<LlmCompletion, 'toolCalls'> {
  /** The calls the model asked for (empty when none), arguments checked against each tool's schema. */
  toolCalls: readonly LlmToolCall[];
  /** The id of the client that answered, e.g. `llm:openai`; through a fallback chain, the one that did. */
  provider: string;
  /** From the call until the whole reply arrived, retries included. */
  latencyMs: number;
}

/** What a stream yields through `events()`: text as it comes, each tool call once it is whole. */
export type LlmStreamPart = { type: 'text'; text: string } | { type: 'tool_call'; toolCall: LlmToolCall };

/**
 * A reply as it is generated: iterate it (once) for text deltas, or `events()` (instead) for
 * text and tool calls; `result` settles when the reply is complete, and rejects with the same
 * error the iteration throws. Breaking out of the loop cancels the request.
 */
export interface LlmStream extends AsyncIterable<string> {
  readonly result: Promise<LlmResult>;
  events(): AsyncIterable<LlmStreamPart>;
}

export interface LlmEmbedOptions extends OperationOptions {
  /** The embedding model; default the client's `embeddingModel` option. */
  model?: string;
  /** Length of each vector, for models that can shorten theirs. */
  dimensions?: number;
}

export interface LlmEmbedding {
  /** One vector per text, in the order given. */
  vectors: number[][];
  model: string;
  dimensions: number;
  usage: { inputTokens: number };
  /** The id of the client that answered. */
  provider: string;
  /** The whole call, every batch included. */
  latencyMs: number;
}

export interface LlmClient extends Component {
  generate(request: LlmRequest): Promise<LlmResult>;
  stream(request: LlmRequest): LlmStream;
  /** Vectors of `texts`, sent in batches of at most the provider's limit. */
  embed(texts: readonly string[], options?: LlmEmbedOptions): Promise<LlmEmbedding>;
}

export type LlmOperation = 'generate' | 'stream' | 'embed';

// A chat completion or an embedding changes nothing on the provider's side: a failed one may be asked again.
export const llmClientOperations: OperationSpecs<LlmOperation> = {
  generate: { idempotent: true },
  stream: { idempotent: true },
  embed: { idempotent: true },
};

// A language model that is down degrades a service; it should not take it out of rotation.
export const llmClientPort: PortDefinition<LlmOperation> = {
  key: 'llm',
  name: 'llm',
  idPrefix: 'llm',
  envPrefix: 'LLM',
  critical: false,
  inMemoryDriver: 'memory',
  operations: llmClientOperations,
};

/** A request after validation, with the model resolved. */
export interface LlmAdapterRequest {
  messages: readonly LlmMessage[];
  model: string;
  temperature: number | undefined;
  maxTokens: number | undefined;
  stop: readonly string[] | undefined;
  responseFormat: LlmJsonSchemaFormat | undefined;
  /** Tools with their parameters as JSON Schema. */
  tools: readonly LlmAdapterTool[] | undefined;
  toolChoice: LlmToolChoice | undefined;
}

export interface LlmAdapterTool {
  name: string;
  description: string | undefined;
  parameters: Record<string, unknown>;
}

export interface LlmAdapterEmbedRequest {
  texts: readonly string[];
  model: string;
  dimensions: number | undefined;
}

export interface LlmAdapterEmbedding {
  vectors: number[][];
  model: string;
  inputTokens: number;
}

export type LlmStreamEvent =
  | { type: 'delta'; text: string }
  /** A piece of the tool call at `index`: its id and name come once, its arguments in pieces. */
  | { type: 'tool_call_delta'; index: number; id?: string; name?: string; arguments?: string }
  | { type: 'done'; model: string; finishReason: LlmFinishReason; usage: LlmUsage };

/**
 * What an LLM backend implements: one chat call and one streamed chat call. berth builds the
 * `LlmClient` port around it once (validation, stream deadlines, guard, token metrics).
 */
export interface LlmAdapter {
  /** OpenTelemetry's `gen_ai.provider.name`, e.g. `openai`, `azure.ai.openai`, `ollama`. */
  readonly system: string;
  /** Used when a request names no model. */
  readonly defaultModel: string | undefined;
  /** Options this backend cannot honour. */
  readonly unsupported: readonly LlmOption[];
  /** Most stop sequences the backend accepts; absent for no limit. */
  readonly maxStopSequences?: number;
  generate(request: LlmAdapterRequest, ctx: OperationContext): Promise<LlmCompletion>;
  /** Deltas (empty ones skipped), then exactly one `done`; ends early only by throwing. */
  stream(request: LlmAdapterRequest, signal: AbortSignal): AsyncIterable<LlmStreamEvent>;
  /** Most texts one embedding request takes; absent with `embed`, embeddings are refused with `validation`. */
  readonly maxEmbeddingBatch?: number | undefined;
  /** Used when an embedding call names no model. */
  readonly defaultEmbeddingModel?: string | undefined;
  /** One batch of at most `maxEmbeddingBatch` texts. */
  embed?(request: LlmAdapterEmbedRequest, ctx: OperationContext): Promise<LlmAdapterEmbedding>;
  /** A dedicated, bounded check of the backend. */
  probe(signal: AbortSignal): Promise<HealthResult>;
  classifyError(error: unknown): ErrorClassification;
  close(): Promise<void>;
}
