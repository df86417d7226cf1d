import type { InfraError } from '../../ports/errors.ts';
import type {
  LlmAdapter,
  LlmAdapterRequest,
  LlmOperation,
  LlmOption,
  LlmRequest,
} from '../../ports/llm-client.ts';

type Invalid = (operation: string, path: string, message: string) => InfraError;

const roles: ReadonlySet<string> = new Set(['system', 'user', 'assistant']);

/** A request checked before any I/O. Messages name paths and limits, never the values: a prompt is not for logs. */
export function checkLlmRequest(
  operation: LlmOperation,
  request: LlmRequest,
  adapter: LlmAdapter,
  invalid: Invalid,
): LlmAdapterRequest {
  if (typeof request !== 'object' || request === null)
    throw invalid(operation, 'request', 'must be an object');
  const { messages, temperature, maxTokens, stop, responseFormat } = request;
  checkMessages(operation, messages, invalid);
  const model = request.model ?? adapter.defaultModel;
  if (typeof model !== 'string' || model.length === 0 || model.length > 256)
    throw invalid(operation, 'model', 'must be given, in the request or as the client option');
  checkSampling(operation, request, adapter, invalid);
  const given: Record<LlmOption, unknown> = { temperature, maxTokens, stop, responseFormat };
  for (const option of adapter.unsupported) {
    if (given[option] !== undefined)
      throw invalid(operation, option, `is not supported by ${adapter.system}`);
  }
  return { messages, model, temperature, maxTokens, stop, responseFormat };
}

function checkMessages(operation: LlmOperation, messages: unknown, invalid: Invalid): void {
  if (!Array.isArray(messages) || messages.length === 0)
    throw invalid(operation, 'messages', 'must be a non-empty array');
  (messages as readonly unknown[]).forEach((entry, index) => {
    const message = entry as { role?: unknown; content?: unknown } | null;
    if (
      typeof message !== 'object' ||
      message === null ||
      typeof message.role !== 'string' ||
      !roles.has(message.role)
    )
      throw invalid(operation, `messages.${index}.role`, 'must be system, user or assistant');
    if (typeof message.content !== 'string')
      throw invalid(operation, `messages.${index}.content`, 'must be a string');
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
