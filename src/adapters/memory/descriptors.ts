import { z } from 'zod';
import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import { executorOptionsSchema } from '../../runtime/executor/call-schemas.ts';
import {
  memoryDocumentStoreOptionsSchema,
  memoryCacheOptionsSchema,
  memorySecretStoreOptionsSchema,
  memoryTimeSeriesOptionsSchema,
} from './options.ts';
import { componentId, policyOverridesSchema } from '../../runtime/options/schema-pieces.ts';
import { createMemoryBroker, type MemoryBrokerOptions } from './broker.ts';
import { createMemoryCache } from './cache.ts';
import { createMemoryDocumentStore } from './document-store.ts';
import { createMemoryExecutor, type MemoryExecutorOptions } from './executor.ts';
import { createMemoryLlmClient, type MemoryLlmClientOptions } from './llm-client.ts';
import { createMemorySecretStore } from './secret-store.ts';
import { createMemoryTimeSeries } from './time-series.ts';

// Memory adapters load no SDK: their factories are imported directly.

export const memoryCacheAdapter = defineAdapter({
  port: 'cache',
  driver: 'memory',
  options: memoryCacheOptionsSchema,
  env: {
    CACHE_MAX_ENTRIES: { option: 'maxEntries', kind: 'integer', description: 'entries kept (default 10000)' },
  },
  create: (options, runtime) => Promise.resolve(createMemoryCache(options, runtime)),
});

export const memoryBrokerAdapter = defineAdapter({
  port: 'broker',
  driver: 'memory',
  options: z.looseObject({ id: componentId.optional(), policies: policyOverridesSchema.optional() }),
  env: {},
  create: (options, runtime) => Promise.resolve(createMemoryBroker(options as MemoryBrokerOptions, runtime)),
});

export const memoryDocumentStoreAdapter = defineAdapter({
  port: 'documents',
  driver: 'memory',
  options: memoryDocumentStoreOptionsSchema,
  env: {},
  create: (options, runtime) => Promise.resolve(createMemoryDocumentStore(options, runtime)),
});

export const memoryTimeSeriesAdapter = defineAdapter({
  port: 'timeSeries',
  driver: 'memory',
  options: memoryTimeSeriesOptionsSchema,
  env: {
    TIME_SERIES_MAX_POINTS: {
      option: 'maxPoints',
      kind: 'integer',
      description: 'points kept (default 1000000)',
    },
    TIME_SERIES_DEFAULT_TTL_MS: {
      option: 'defaultTtlMs',
      kind: 'integer',
      description: 'time to live of points written without one (default: kept)',
    },
  },
  create: (options, runtime) => Promise.resolve(createMemoryTimeSeries(options, runtime)),
});

export const memorySecretStoreAdapter = defineAdapter({
  port: 'secrets',
  driver: 'memory',
  options: memorySecretStoreOptionsSchema,
  env: {},
  create: (options, runtime) => Promise.resolve(createMemorySecretStore(options, runtime)),
});

/** Echoes the last user message unless given scripted replies in code. */
export const memoryLlmClientAdapter = defineAdapter({
  port: 'llm',
  driver: 'memory',
  options: z.looseObject({
    id: componentId.optional(),
    model: z.string().min(1).optional(),
    policies: policyOverridesSchema.optional(),
  }),
  env: { LLM_MODEL: { option: 'model', description: 'model named in replies' } },
  create: (options, runtime) =>
    Promise.resolve(createMemoryLlmClient(options as MemoryLlmClientOptions, runtime)),
});

/** Answers only the commands scripted in code; any other fails as not found. */
export const memoryExecutorAdapter = defineAdapter({
  port: 'executor',
  driver: 'memory',
  options: executorOptionsSchema.loose(),
  env: {},
  create: (options, runtime) =>
    Promise.resolve(createMemoryExecutor(options as MemoryExecutorOptions, runtime)),
});
