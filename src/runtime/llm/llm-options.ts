// Options every LLM adapter takes, beside its provider's own.
import { z } from 'zod';
import { componentId, policyOverridesSchema, positiveInt, urlOf } from '../options/schema-pieces.ts';

export const httpUrl = urlOf(['http:', 'https:'], 'must be an http:// or https:// URL');

export const llmShape = {
  id: componentId.optional(),
  /** Used when a request names no model. */
  model: z.string().min(1).max(256).optional(),
  /** Used when an embedding call names no model (for Azure: the embedding deployment). */
  embeddingModel: z.string().min(1).max(256).optional(),
  /** Texts per embedding request; default (and at most) the provider's limit. */
  embeddingBatchSize: positiveInt.optional(),
  /** Longest wait for the next chunk once a stream has started. Default 30 s. */
  stallTimeoutMs: positiveInt.default(30_000),
  /** Logs prompts and completions at debug level. Default false. */
  logContent: z.boolean().default(false),
  /** `policies.timeoutMs` defaults to 60 s here: a whole reply, or a stream's first delta. */
  policies: policyOverridesSchema.optional(),
};

/** The deadline LLM adapters use unless `policies.timeoutMs` is given: replies take seconds. */
export const llmDefaultTimeoutMs = 60_000;

/** Texts per embedding request: the option when it is within the provider's limit, else the limit. */
export function embeddingBatch(option: number | undefined, providerLimit: number): number {
  return Math.min(option ?? providerLimit, providerLimit);
}
