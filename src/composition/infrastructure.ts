import type { Broker } from '../ports/broker.ts';
import type { Cache } from '../ports/cache.ts';
import type { Component } from '../ports/component.ts';
import type { DocumentStore } from '../ports/document-store.ts';
import type { BrokerConfig, DocumentStoreConfig, InfrastructureConfig } from './load-config.ts';
import { HealthChecker, type HealthCheckerOptions } from '../health/health-checker.ts';
import { defaultRuntime, type Runtime } from '../runtime/runtime.ts';
import { createMemoryCache } from '../adapters/memory/cache.ts';
import { createMemoryBroker } from '../adapters/memory/broker.ts';
import { createMemoryDocumentStore } from '../adapters/memory/document-store.ts';

export interface InfrastructureOptions {
  health?: HealthCheckerOptions;
  /** Time between readiness turning down and the first component closing, for load balancers to notice. */
  shutdownDelayMs?: number;
}

/** The configured adapters, their health checks, and their lifecycle: the composition root. */
export interface Infrastructure extends AsyncDisposable {
  readonly runtime: Runtime;
  readonly health: HealthChecker;
  readonly cache: Cache;
  readonly documents: DocumentStore;
  /** Created last, so closed first: handlers still running at close can use the cache and documents. */
  readonly broker: Broker;
  /** Waits for each component's first health report, then marks the startup probe done. */
  start(): Promise<void>;
  /** Readiness down first, then components closed in reverse order of creation. Idempotent. */
  close(): Promise<void>;
}

export async function createInfrastructure(
  config: InfrastructureConfig,
  runtime: Runtime = defaultRuntime(),
  options: InfrastructureOptions = {},
): Promise<Infrastructure> {
  const health = new HealthChecker(options.health);
  const components: Component[] = [];
  const logger = runtime.logger.child({ component: 'infrastructure' });

  let cache: Cache;
  if (config.cache.driver === 'redis') {
    const { driver, ...redisOptions } = config.cache;
    // Loaded only when configured: the redis SDK is an optional peer dependency.
    const { createRedisCache } = await import('../adapters/redis/cache.ts');
    cache = createRedisCache(redisOptions, runtime);
  } else {
    const { driver, ...memoryOptions } = config.cache;
    cache = createMemoryCache(memoryOptions, runtime);
  }
  components.push(cache);
  health.register(cache.id, cache, { tags: ['cache'], probes: ['readiness', 'startup'] });

  const documents = await createDocumentStore(config.documents, runtime);
  components.push(documents);
  health.register(documents.id, documents, { tags: ['documents'], probes: ['readiness', 'startup'] });

  const broker = await createBroker(config.broker, runtime);
  components.push(broker);
  health.register(broker.id, broker, { tags: ['broker'], probes: ['readiness', 'startup'] });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      health.beginShutdown();
      logger.info('shutting down: readiness is down');
      if (options.shutdownDelayMs)
        await new Promise((resolve) => setTimeout(resolve, options.shutdownDelayMs));
      for (const component of [...components].reverse()) await component.close();
      logger.info('closed');
    })();
    return closing;
  };

  return {
    runtime,
    health,
    cache,
    documents,
    broker,
    async start() {
      const results = await Promise.all(
        components.map(async (component) => [component.id, await component.health()] as const),
      );
      for (const [id, result] of results) {
        if (result.status !== 'up')
          logger.warn({ id, status: result.status, error: result.error }, 'component not up at start');
      }
      health.markStarted();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

// Drivers are loaded only when configured: their SDKs are optional peer dependencies.
async function createBroker(config: BrokerConfig, runtime: Runtime): Promise<Broker> {
  switch (config.driver) {
    case 'kafka': {
      const { driver, ...options } = config;
      const { createKafkaBroker } = await import('../adapters/kafka/broker.ts');
      return createKafkaBroker(options, runtime);
    }
    case 'redis': {
      const { driver, ...options } = config;
      const { createRedisBroker } = await import('../adapters/redis/broker.ts');
      return createRedisBroker(options, runtime);
    }
    case 'memory': {
      const { driver, ...options } = config;
      return createMemoryBroker(options, runtime);
    }
  }
}

async function createDocumentStore(config: DocumentStoreConfig, runtime: Runtime): Promise<DocumentStore> {
  if (config.driver === 'mongodb') {
    const { driver, ...options } = config;
    const { createMongoDocumentStore } = await import('../adapters/mongodb/document-store.ts');
    return createMongoDocumentStore(options, runtime);
  }
  const { driver, ...options } = config;
  return createMemoryDocumentStore(options, runtime);
}
