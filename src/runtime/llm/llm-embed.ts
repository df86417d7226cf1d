import type { OperationOptions } from '../../ports/component.ts';
import type { InfraError } from '../../ports/errors.ts';
import type { LlmAdapter, LlmEmbedding, LlmEmbedOptions, LlmOperation } from '../../ports/llm-client.ts';
import type { Guard } from '../guard/guard.ts';
import type { LlmTelemetry } from './llm-telemetry.ts';
import { latencySince } from './llm-telemetry.ts';

type Invalid = (operation: string, path: string, message: string) => InfraError;

/**
 * `embed()` for any backend: texts checked before any I/O, sent in batches of at most the
 * provider's limit one after another (each a guarded call with its own retries), vectors put
 * back in order and checked for one length.
 */
export async function embedTexts(
  guard: Guard<LlmOperation>,
  adapter: LlmAdapter,
  telemetry: LlmTelemetry,
  texts: readonly string[],
  options: LlmEmbedOptions = {},
): Promise<LlmEmbedding> {
  const invalid: Invalid = (operation, path, message) => guard.invalid(operation, path, message);
  const embed = adapter.embed?.bind(adapter);
  if (embed === undefined || adapter.maxEmbeddingBatch === undefined)
    throw invalid('embed', 'embed', `embeddings are not supported by ${adapter.system}`);
  if (!Array.isArray(texts) || texts.length === 0)
    throw invalid('embed', 'texts', 'must be a non-empty array');
  texts.forEach((text, index) => {
    if (typeof text !== 'string' || text.length === 0)
      throw invalid('embed', `texts.${index}`, 'must be a non-empty string');
  });
  const model = options.model ?? adapter.defaultEmbeddingModel;
  if (typeof model !== 'string' || model.length === 0 || model.length > 256)
    throw invalid('embed', 'model', 'must be given, in the call or as the embeddingModel option');
  const { dimensions } = options;
  if (dimensions !== undefined && !(Number.isSafeInteger(dimensions) && dimensions > 0))
    throw invalid('embed', 'dimensions', 'must be a positive integer');
  const started = performance.now();
  const call: OperationOptions = {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.totalTimeoutMs === undefined ? {} : { totalTimeoutMs: options.totalTimeoutMs }),
  };
  const vectors: number[][] = [];
  let inputTokens = 0;
  let answered = model;
  for (let from = 0; from < texts.length; from += adapter.maxEmbeddingBatch) {
    const batch = texts.slice(from, from + adapter.maxEmbeddingBatch);
    const cost = { tokens: Math.ceil(batch.reduce((sum: number, text: string) => sum + text.length, 0) / 4) };
    const reply = await guard.run(
      'embed',
      call,
      (ctx) => embed({ texts: batch, model, dimensions }, ctx),
      undefined,
      undefined,
      undefined,
      cost,
    );
    guard.correctCost(cost, reply.inputTokens);
    if (reply.vectors.length !== batch.length)
      throw guard.error(
        'internal',
        'embed',
        `asked for ${batch.length} vectors, got ${reply.vectors.length}`,
      );
    vectors.push(...reply.vectors);
    inputTokens += reply.inputTokens;
    answered = reply.model;
  }
  const length = vectors[0]!.length;
  if (vectors.some((vector) => vector.length !== length))
    throw guard.error('internal', 'embed', 'the provider returned vectors of different lengths');
  telemetry.tokens('embed', model, inputTokens, undefined);
  return {
    vectors,
    model: answered,
    dimensions: length,
    usage: { inputTokens },
    provider: guard.id,
    latencyMs: latencySince(started),
  };
}
