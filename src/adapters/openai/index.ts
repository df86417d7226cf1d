export { createAzureOpenAiClient, createOpenAiClient, type OpenAiClient } from './client.ts';
export { classifyOpenAiError } from './errors.ts';
export type {
  AzureOpenAiClientOptions,
  OpenAiClientOptions,
  TokenCredentialLike,
} from '../../options/llm-schemas.ts';
