import { z } from 'zod';
import { httpUrl, llmShape } from '../../runtime/llm/llm-options.ts';

export const ollamaClientOptionsSchema = z.strictObject({
  ...llmShape,
  host: httpUrl.default('http://127.0.0.1:11434'),
  /** How long Ollama keeps the model loaded after a call, e.g. `5m`. */
  keepAlive: z.union([z.string().min(1), z.number()]).optional(),
});

export type OllamaClientOptions = z.input<typeof ollamaClientOptionsSchema>;
export type ParsedOllamaOptions = z.output<typeof ollamaClientOptionsSchema>;
