export { createOllamaClient, type OllamaClient } from './llm-client.ts';
export { classifyOllamaError } from './errors.ts';
export type { OllamaClientOptions } from './options.ts';
