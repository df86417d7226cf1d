import { z } from 'zod';
import { policyOverridesSchema, secretValue, urlOf } from './schemas.ts';

const positiveInt = z.number().int().positive();

const httpUrl = urlOf(['http:', 'https:'], 'must be an http:// or https:// URL');

/** What `@azure/identity`'s credentials offer (`DefaultAzureCredential`, …). */
export interface TokenCredentialLike {
  getToken(
    scopes: string | string[],
    options?: object,
  ): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

/** A Microsoft Entra ID credential: any object with `getToken`. */
export const tokenCredentialSchema = z.custom<TokenCredentialLike>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { getToken?: unknown }).getToken === 'function',
  { message: 'must be a TokenCredential (an object with getToken)' },
);

const llmShape = {
  id: z.string().min(1).max(200).optional(),
  /** Used when a request names no model. */
  model: z.string().min(1).max(256).optional(),
  /** Longest wait for the next chunk once a stream has started. Default 30 s. */
  stallTimeoutMs: positiveInt.default(30_000),
  /** Logs prompts and completions at debug level. Default false. */
  logContent: z.boolean().default(false),
  /** `policies.timeoutMs` defaults to 60 s here: a whole reply, or a stream's first delta. */
  policies: policyOverridesSchema.optional(),
};

export const openAiClientOptionsSchema = z
  .strictObject({
    ...llmShape,
    apiKey: secretValue,
    /** Default `https://api.openai.com/v1`. */
    baseUrl: httpUrl.optional(),
    /** The OpenAI SDK's spelling of `baseUrl`, taken as the same option. */
    baseURL: httpUrl.optional(),
    organization: z.string().min(1).optional(),
    project: z.string().min(1).optional(),
  })
  .refine((options) => options.baseUrl === undefined || options.baseURL === undefined, {
    message: 'give baseUrl or baseURL, not both',
    path: ['baseURL'],
  });
export type OpenAiClientOptions = z.input<typeof openAiClientOptionsSchema>;

export const azureOpenAiClientOptionsSchema = z
  .strictObject({
    ...llmShape,
    /** e.g. `https://my-resource.openai.azure.com`. */
    endpoint: httpUrl,
    deployment: z.string().min(1).max(256),
    apiVersion: z.string().min(1).default('2024-10-21'),
    apiKey: secretValue.optional(),
    /** A Microsoft Entra ID credential from `@azure/identity`, e.g. `new DefaultAzureCredential()`. */
    credential: tokenCredentialSchema.optional(),
  })
  .refine((options) => (options.apiKey === undefined) !== (options.credential === undefined), {
    message: 'give exactly one of apiKey and credential',
    path: ['apiKey'],
  });
export type AzureOpenAiClientOptions = z.input<typeof azureOpenAiClientOptionsSchema>;

export const ollamaClientOptionsSchema = z.strictObject({
  ...llmShape,
  host: httpUrl.default('http://127.0.0.1:11434'),
  /** How long Ollama keeps the model loaded after a call, e.g. `5m`. */
  keepAlive: z.union([z.string().min(1), z.number()]).optional(),
});
export type OllamaClientOptions = z.input<typeof ollamaClientOptionsSchema>;

/** The deadline LLM adapters use unless `policies.timeoutMs` is given: replies take seconds. */
export const llmDefaultTimeoutMs = 60_000;
