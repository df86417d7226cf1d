import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import { ollamaClientOptionsSchema, type OllamaClientOptions } from './options.ts';

export const ollamaClientAdapter = defineAdapter({
  port: 'llm',
  driver: 'ollama',
  options: ollamaClientOptionsSchema,
  packages: ['ollama'],
  env: {
    LLM_MODEL: { option: 'model', description: 'model used when a request names none' },
    LLM_EMBEDDING_MODEL: {
      option: 'embeddingModel',
      description: 'embedding model used when a call names none',
    },
    OLLAMA_HOST: { option: 'host', description: 'default http://127.0.0.1:11434' },
  },
  create: async (options, runtime) =>
    (await import('./llm-client.ts')).createOllamaClient(options as OllamaClientOptions, runtime),
});
