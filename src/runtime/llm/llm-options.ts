// Options every LLM adapter takes, beside its provider's own.
import { z } from 'zod';
import { componentId, policyOverridesSchema, positiveInt, urlOf } from '../options/schema-pieces.ts';

export const httpUrl = urlOf(['http:', 'https:'], 'must be an http:// or https:// URL');

export const llmShape = {
  id: componentId.optional(),
  /** Used when a request names no model. */
  model: z.string().min(1).max(256).optional(),
  /** Longest wait for the next chunk once a stream has started. Default 30 s. */
  stallTimeoutMs: positiveInt.default(30_000),
  /** Logs prompts and completions at debug level. Default false. */
  logContent: z.boolean().default(false),
  /** `policies.timeoutMs` defaults to 60 s here: a whole reply, or a stream's first delta. */
  policies: policyOverridesSchema.optional(),
};

/** The deadline LLM adapters use unless `policies.timeoutMs` is given: replies take seconds. */
export const llmDefaultTimeoutMs = 60_000;
