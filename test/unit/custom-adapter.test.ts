// A backend defined only here, outside berth: a cache over a Map, declared as a descriptor,
// built from environment variables by loadConfig + createInfrastructure, seen by /readyz,
// and held to the same cacheConformance as berth's own adapters.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import {
  createHealthHandler,
  createInfrastructure,
  defineAdapter,
  guardCache,
  loadConfig,
  type CacheAdapter,
  type CacheKeyPage,
  type Infrastructure,
} from '../../src/index.ts';
import { cacheConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';

// One Map for every instance: instances share it as clients share a server.
const store = new Map<string, { value: string; expiresAt: number }>();

class MapCacheAdapter implements CacheAdapter<number> {
  readonly system = 'map';
  readonly #namespace: string;
  constructor(namespace: string) {
    this.#namespace = namespace;
  }
  #live(key: string): string | undefined {
    const entry = store.get(this.#namespace + key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > Date.now()) return entry.value;
    store.delete(this.#namespace + key);
    return undefined;
  }
  #own(): string[] {
    return [...store.keys()]
      .filter((key) => key.startsWith(this.#namespace))
      .map((key) => key.slice(this.#namespace.length))
      .filter((key) => this.#live(key) !== undefined)
      .sort();
  }
  get(key: string) {
    return Promise.resolve(this.#live(key));
  }
  getMany(keys: readonly string[]) {
    return Promise.resolve(keys.map((key) => this.#live(key)));
  }
  set(key: string, value: string, ttlMs: number | undefined) {
    store.set(this.#namespace + key, {
      value,
      expiresAt: ttlMs === undefined ? Infinity : Date.now() + ttlMs,
    });
    return Promise.resolve();
  }
  async setMany(entries: readonly { key: string; value: string; ttlMs: number | undefined }[]) {
    for (const entry of entries) await this.set(entry.key, entry.value, entry.ttlMs);
  }
  delete(key: string) {
    const had = this.#live(key) !== undefined;
    store.delete(this.#namespace + key);
    return Promise.resolve(had);
  }
  has(key: string) {
    return Promise.resolve(this.#live(key) !== undefined);
  }
  // Pages of ten over the sorted keys; the cursor is the last key's index.
  scan(prefix: string, cursor: number | undefined): Promise<CacheKeyPage<number>> {
    const keys = this.#own().filter((key) => key.startsWith(prefix));
    const start = cursor ?? 0;
    const page = keys.slice(start, start + 10);
    return Promise.resolve({ keys: page, cursor: start + 10 < keys.length ? start + 10 : undefined });
  }
  clear() {
    for (const key of this.#own()) store.delete(this.#namespace + key);
    return Promise.resolve(undefined);
  }
  probe() {
    return Promise.resolve({ status: 'up' as const });
  }
  classifyError() {
    return { reason: 'internal' as const, retryable: false };
  }
  close() {
    return Promise.resolve();
  }
}

const mapCacheAdapter = defineAdapter({
  port: 'cache',
  driver: 'map',
  options: z.strictObject({
    id: z.string().optional(),
    namespace: z.string().min(1),
    policies: z.object({ timeoutMs: z.number().int().positive() }).optional(),
  }),
  env: {
    MAP_CACHE_NAMESPACE: { option: 'namespace', required: true, description: 'prefix of this cache keys' },
  },
  create: (options, runtime) =>
    Promise.resolve(
      guardCache(
        new MapCacheAdapter(String(options.namespace)),
        { id: typeof options.id === 'string' ? options.id : 'cache:map' },
        runtime,
      ),
    ),
});

const adapters = [mapCacheAdapter];
const opened: Infrastructure[] = [];
after(() => Promise.all(opened.map((infra) => infra.close())));

async function fromEnv(env: Record<string, string>): Promise<Infrastructure> {
  const infra = await createInfrastructure(await loadConfig(env, { adapters }), silentRuntime(), {
    adapters,
  });
  opened.push(infra);
  return infra;
}

describe('an adapter declared outside berth', () => {
  it('is built from the environment and answers /readyz', async () => {
    const infra = await fromEnv({ CACHE_DRIVER: 'map', MAP_CACHE_NAMESPACE: 'readyz:' });
    await infra.cache.set('k', { n: 1 });
    assert.deepEqual(await infra.cache.get('k'), { n: 1 });
    assert.equal(store.get('readyz:k')?.value, '{"n":1}', 'the value went to the Map');
    await infra.start();

    const probes = createHealthHandler(infra.health, { exposeDetails: true });
    const server = createServer((req, res) => void probes(req, res)).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const reply = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(reply.status, 200);
      const body = (await reply.json()) as { checks: Record<string, { status: string }> };
      assert.equal(body.checks['cache:map']?.status, 'up');
    } finally {
      server.close();
    }
  });

  it('is named in the error for a missing variable, and listed among the drivers', async () => {
    await assert.rejects(
      loadConfig({ CACHE_DRIVER: 'map' }, { adapters }),
      /MAP_CACHE_NAMESPACE: is required/,
    );
    await assert.rejects(
      loadConfig({ CACHE_DRIVER: 'nope' }, { adapters }),
      /must be one of memory, redis, map/,
    );
    // Without the descriptor, the driver is unknown.
    await assert.rejects(loadConfig({ CACHE_DRIVER: 'map', MAP_CACHE_NAMESPACE: 'x:' }), /CACHE_DRIVER/);
  });
});

cacheConformance({
  name: 'map (a descriptor of a test file, built from the environment)',
  create: async (namespace) => (await fromEnv({ CACHE_DRIVER: 'map', MAP_CACHE_NAMESPACE: namespace })).cache,
  features: { shared: true },
});
