import type {
  Component,
  HealthResult,
  OperationContext,
  OperationOptions,
  OperationSpecs,
  PortDefinition,
} from './component.ts';
import type { ErrorClassification } from './errors.ts';

export type LlmRole = 'system' | 'user' | 'assistant';

export interface LlmMessage {
  role: LlmRole;
  content: string;
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
}

/** Request options a provider may not support; using one it lacks fails with `validation`. */
export type LlmOption = 'temperature' | 'maxTokens' | 'stop' | 'responseFormat';

export type LlmFinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'other';

export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
}

/** What a reply says, as a backend reports it. */
export interface LlmCompletion {
  text: string;
  /** The model that answered, as the provider names it. */
  model: string;
  finishReason: LlmFinishReason;
  usage: LlmUsage;
}

export interface LlmResult extends LlmCompletion {
  /** From the call until the whole reply arrived, retries included. */
  latencyMs: number;
}

/**
 * A reply as it is generated: iterate it (once) for text deltas; `result` settles when the
 * reply is complete, and rejects with the same error the iteration throws. Breaking out of
 * the loop cancels the request.
 */
export interface LlmStream extends AsyncIterable<string> {
  readonly result: Promise<LlmResult>;
}

export interface LlmClient extends Component {
  generate(request: LlmRequest): Promise<LlmResult>;
  stream(request: LlmRequest): LlmStream;
}

export type LlmOperation = 'generate' | 'stream';

// A chat completion changes nothing on the provider's side, so a failed one may be asked again.
export const llmClientOperations: OperationSpecs<LlmOperation> = {
  generate: { idempotent: true },
  stream: { idempotent: true },
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
}

export type LlmStreamEvent =
  | { type: 'delta'; text: string }
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
  /** A dedicated, bounded check of the backend. */
  probe(signal: AbortSignal): Promise<HealthResult>;
  classifyError(error: unknown): ErrorClassification;
  close(): Promise<void>;
}
