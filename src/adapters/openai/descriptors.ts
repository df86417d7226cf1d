import { defineAdapter, type EnvVariable } from '../../runtime/adapter-descriptor.ts';
import {
  azureOpenAiClientOptionsSchema,
  openAiClientOptionsSchema,
  type AzureOpenAiClientOptions,
  type OpenAiClientOptions,
} from './options.ts';

const model: Record<string, EnvVariable> = {
  LLM_MODEL: { option: 'model', description: 'model used when a request names none' },
  LLM_EMBEDDING_MODEL: {
    option: 'embeddingModel',
    description: 'embedding model used when a call names none (Azure: its deployment)',
  },
};

export const openAiClientAdapter = defineAdapter({
  port: 'llm',
  driver: 'openai',
  options: openAiClientOptionsSchema,
  packages: ['openai'],
  env: {
    ...model,
    OPENAI_API_KEY: { option: 'apiKey', kind: 'secret', required: true, description: 'API key' },
    OPENAI_BASE_URL: { option: 'baseUrl', description: 'default https://api.openai.com/v1' },
    OPENAI_ORGANIZATION: { option: 'organization', description: 'organization id' },
    OPENAI_PROJECT: { option: 'project', description: 'project id' },
  },
  create: async (options, runtime) =>
    (await import('./llm-client.ts')).createOpenAiClient(options as OpenAiClientOptions, runtime),
});

export const azureOpenAiClientAdapter = defineAdapter({
  port: 'llm',
  driver: 'azure-openai',
  options: azureOpenAiClientOptionsSchema,
  // @azure/identity too, but only with a `credential`, and imported on its first token.
  packages: ['openai'],
  env: {
    ...model,
    AZURE_OPENAI_ENDPOINT: {
      option: 'endpoint',
      required: true,
      description: 'https://<resource>.openai.azure.com',
    },
    AZURE_OPENAI_DEPLOYMENT: { option: 'deployment', required: true, description: 'deployment name' },
    AZURE_OPENAI_API_VERSION: { option: 'apiVersion', description: 'default 2024-10-21' },
    AZURE_OPENAI_API_KEY: { option: 'apiKey', kind: 'secret', required: true, description: 'API key' },
  },
  create: async (options, runtime) =>
    (await import('./llm-client.ts')).createAzureOpenAiClient(options as AzureOpenAiClientOptions, runtime),
});
