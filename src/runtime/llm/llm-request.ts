import type { InfraError } from '../../ports/errors.ts';
import type {
  LlmAdapter,
  LlmAdapterRequest,
  LlmOperation,
  LlmOption,
  LlmRequest,
} from '../../ports/llm-client.ts';
import { ToolSet } from './llm-tools.ts';

type Invalid = (operation: string, path: string, message: string) => InfraError;

const roles: ReadonlySet<string> = new Set(['system', 'user', 'assistant', 'tool']);

/** A request after its checks: what the adapter gets, and how the reply's tool calls are checked. */
export interface CheckedLlmRequest {
  readonly request: LlmAdapterRequest;
  readonly tools: ToolSet;
}

/** A request checked before any I/O. Messages name paths and limits, never the values: a prompt is not for logs. */
export function checkLlmRequest(
  operation: LlmOperation,
  request: LlmRequest,
  adapter: LlmAdapter,
  invalid: Invalid,
): CheckedLlmRequest {
  if (typeof request !== 'object' || request === null)
    throw invalid(operation, 'request', 'must be an object');
  const { messages, temperature, maxTokens, stop, responseFormat, tools, toolChoice } = request;
  checkMessages(operation, messages, invalid);
  const model = request.model ?? adapter.defaultModel;
  if (typeof model !== 'string' || model.length === 0 || model.length > 256)
    throw invalid(operation, 'model', 'must be given, in the request or as the client option');
  checkSampling(operation, request, adapter, invalid);
  const given: Record<LlmOption, unknown> = { temperature, maxTokens, stop, responseFormat, tools };
  for (const option of adapter.unsupported) {
    if (given[option] !== undefined)
      throw invalid(operation, option, `is not supported by ${adapter.system}`);
  }
  const toolSet = ToolSet.of(operation, tools, toolChoice, invalid);
  return {
    request: {
      messages,
      model,
      temperature,
      maxTokens,
      stop,
      responseFormat,
      tools: tools === undefined ? undefined : toolSet.adapterTools,
      toolChoice,
    },
    tools: toolSet,
  };
}

function checkMessages(operation: LlmOperation, messages: unknown, invalid: Invalid): void {
  if (!Array.isArray(messages) || messages.length === 0)
    throw invalid(operation, 'messages', 'must be a non-empty array');
  (messages as readonly unknown[]).forEach((entry, index) => {
    const message = entry as {
      role?: unknown;
      content?: unknown;
      toolCalls?: unknown;
      toolCallId?: unknown;
    } | null;
    if (
      typeof message !== 'object' ||
      message === null ||
      typeof message.role !== 'string' ||
      !roles.has(message.role)
    )
      throw invalid(operation, `messages.${index}.role`, 'must be system, user, assistant or tool');
    if (typeof message.content !== 'string')
      throw invalid(operation, `messages.${index}.content`, 'must be a string');
    if (message.role === 'tool' && (typeof message.toolCallId !== 'string' || message.toolCallId === ''))
      throw invalid(operation, `messages.${index}.toolCallId`, 'must name the call a tool message answers');
    if (message.toolCalls === undefined) return;
    if (message.role !== 'assistant' || !Array.isArray(message.toolCalls))
      throw invalid(operation, `messages.${index}.toolCalls`, 'must be an array, on an assistant message');
    (message.toolCalls as readonly unknown[]).forEach((call, at) => {
      const { id, name } = (call ?? {}) as { id?: unknown; name?: unknown };
      if (typeof id !== 'string' || typeof name !== 'string')
        throw invalid(operation, `messages.${index}.toolCalls.${at}`, 'must have a string id and name');
    });
  });
}

function checkSampling(
  operation: LlmOperation,
  { temperature, maxTokens, stop, responseFormat }: LlmRequest,
  adapter: LlmAdapter,
  invalid: Invalid,
): void {
  if (temperature !== undefined && !(typeof temperature === 'number' && temperature >= 0 && temperature <= 2))
    throw invalid(operation, 'temperature', 'must be a number from 0 to 2');
  if (maxTokens !== undefined && !(Number.isSafeInteger(maxTokens) && maxTokens > 0))
    throw invalid(operation, 'maxTokens', 'must be a positive integer');
  if (
    stop !== undefined &&
    !(Array.isArray(stop) && stop.every((s) => typeof s === 'string' && s.length > 0))
  )
    throw invalid(operation, 'stop', 'must be an array of non-empty strings');
  if (stop !== undefined && adapter.maxStopSequences !== undefined && stop.length > adapter.maxStopSequences)
    throw invalid(
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
    throw invalid(operation, 'responseFormat', 'must be { type: "json_schema", schema: object }');
}

/**
 * Tokens a request is counted for against a rate limit until its usage is known: about four
 * characters a token for the prompt and tools, plus `maxTokens` of reply at most.
 */
export function estimateTokens(request: LlmAdapterRequest): number {
  let characters = 0;
  for (const message of request.messages) characters += message.content.length;
  if (request.tools !== undefined) characters += JSON.stringify(request.tools).length;
  return Math.ceil(characters / 4) + (request.maxTokens ?? 0);
}
