import { z } from 'zod';
import { secretValue, tokenCredentialSchema } from '../../runtime/options/schema-pieces.ts';
import { httpUrl, llmShape } from '../../runtime/llm/llm-options.ts';

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
