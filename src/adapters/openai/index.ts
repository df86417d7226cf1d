export { createAzureOpenAiClient, createOpenAiClient, type OpenAiClient } from './llm-client.ts';
export { classifyOpenAiError } from './errors.ts';
export type { AzureOpenAiClientOptions, OpenAiClientOptions } from './options.ts';
export type { TokenCredentialLike } from '../../runtime/options/schema-pieces.ts';
