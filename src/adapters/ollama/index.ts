export { createOllamaClient, type OllamaClient } from './client.ts';
export { classifyOllamaError } from './errors.ts';
export type { OllamaClientOptions } from '../../options/llm-schemas.ts';
