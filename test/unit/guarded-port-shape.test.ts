import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createMemoryBroker,
  createMemoryCache,
  createMemoryDocumentStore,
  createMemoryExecutor,
  createMemoryLlmClient,
  createMemorySecretStore,
  createMemoryTimeSeries,
} from '../../src/adapters/memory/index.ts';
import type { Component } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';

// The guarded ports are classes inside; to their users they stay records of functions, which
// `{ ...port }` (extendPort, a test's wrapper) copies whole, detached methods included.
const ports: Record<string, { create: () => Component; operations: string[] }> = {
  cache: {
    create: () => createMemoryCache({}, silentRuntime()),
    operations: ['get', 'set', 'delete', 'has', 'getMany', 'setMany', 'keys', 'clear', 'getOrSet'],
  },
  secrets: {
    create: () => createMemorySecretStore({ secrets: { token: 'x' } }, silentRuntime()),
    operations: ['get', 'list', 'set', 'delete'],
  },
  documents: {
    create: () => createMemoryDocumentStore({}, silentRuntime()),
    operations: ['collection', 'start'],
  },
  timeSeries: {
    create: () => createMemoryTimeSeries({}, silentRuntime()),
    operations: ['write', 'range', 'latest', 'aggregate', 'tagSets'],
  },
  broker: { create: () => createMemoryBroker({}, silentRuntime()), operations: ['publish', 'subscribe'] },
  executor: { create: () => createMemoryExecutor({}, silentRuntime()), operations: ['run', 'spawn'] },
  llm: { create: () => createMemoryLlmClient({}, silentRuntime()), operations: ['generate', 'stream'] },
};

describe('guarded ports: records of own functions', () => {
  for (const [name, { create, operations }] of Object.entries(ports)) {
    it(`${name}: a spread copy keeps id, health, close and every operation`, async () => {
      const port = create();
      const copy = { ...port } as Record<string | symbol, unknown>;
      assert.equal(copy.id, port.id);
      for (const operation of [...operations, 'health', 'close']) {
        assert.equal(typeof copy[operation], 'function', `${name}.${operation} is an own function`);
      }
      assert.equal(typeof copy[Symbol.asyncDispose], 'function');
      const health = copy.health as Component['health'];
      assert.equal((await health()).status, 'up');
      await (copy.close as Component['close'])();
      assert.equal((await health()).status, 'down');
    });
  }
});
