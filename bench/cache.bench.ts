// Guarded Redis cache vs the raw node-redis client, interleaved in one process.
// Prints `ratio <name> <guarded/raw throughput>` lines and the guard's own cost per operation.
import { createClient } from 'redis';
import { Registry } from 'prom-client';
import { createRedisCache } from '../src/adapters/redis/index.ts';
import type { CacheAdapter } from '../src/ports/index.ts';
import { createLogger, createRuntime, guardCache } from '../src/runtime/index.ts';
import { ensureService } from '../scripts/services.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const opsPerRound = Number(process.env.BENCH_OPS ?? 20_000);

async function redisUrl(): Promise<string> {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  const env = await ensureService('redis');
  if (!env.REDIS_URL) throw new Error('services did not provide REDIS_URL');
  return env.REDIS_URL;
}

/** Runs `total` calls of `op` with `concurrency` workers; returns operations per second. */
async function throughput(
  op: (i: number) => Promise<unknown>,
  total: number,
  concurrency: number,
): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) await op(next++);
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return total / ((performance.now() - started) / 1000);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const runtime = createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry() });
const url = await redisUrl();
const raw = createClient({ url });
await raw.connect();
const guarded = createRedisCache({ url, keyPrefix: 'bench:' }, runtime);
const value = { id: 42, name: 'berth', tags: ['a', 'b'] };
await raw.set('bench:k', JSON.stringify(value));
for (let i = 0; i < 100; i++) await guarded.set(`w${i}`, value);

// The raw side does the same JSON work the port does, so only the guard's cost differs.
const cases = {
  get: {
    raw: async (): Promise<unknown> => JSON.parse((await raw.get('bench:k'))!) as unknown,
    guarded: (): Promise<unknown> => guarded.get('k'),
  },
  set: {
    raw: (i: number): Promise<unknown> => raw.set(`bench:w${i % 100}`, JSON.stringify(value)),
    guarded: (i: number): Promise<unknown> => guarded.set(`w${i % 100}`, value),
  },
};

for (const concurrency of [1, 64]) {
  for (const [name, pair] of Object.entries(cases)) {
    const rawRates: number[] = [];
    const guardedRates: number[] = [];
    const total = concurrency === 1 ? opsPerRound / 4 : opsPerRound;
    await throughput(pair.raw, total / 4, concurrency); // warm-up
    await throughput(pair.guarded, total / 4, concurrency);
    for (let round = 0; round < rounds; round++) {
      // Alternate which side goes first so drift in the machine hits both alike.
      if (round % 2 === 0) {
        rawRates.push(await throughput(pair.raw, total, concurrency));
        guardedRates.push(await throughput(pair.guarded, total, concurrency));
      } else {
        guardedRates.push(await throughput(pair.guarded, total, concurrency));
        rawRates.push(await throughput(pair.raw, total, concurrency));
      }
    }
    const label = `cache.${name}.c${concurrency}`;
    console.error(
      `${label}: raw ${Math.round(median(rawRates))} ops/s, guarded ${Math.round(median(guardedRates))} ops/s`,
    );
    console.log(`ratio ${label} ${(median(guardedRates) / median(rawRates)).toFixed(3)}`);
  }
}
raw.destroy();
await guarded.close();

// The guard alone: the same port over an adapter that does nothing.
const noop: CacheAdapter = {
  system: 'noop',
  get: () => Promise.resolve('1'),
  getMany: (keys) => Promise.resolve(keys.map(() => '1')),
  set: () => Promise.resolve(),
  setMany: () => Promise.resolve(),
  delete: () => Promise.resolve(true),
  has: () => Promise.resolve(true),
  probe: () => Promise.resolve({ status: 'up' }),
  classifyError: () => ({ reason: 'internal' }),
  close: () => Promise.resolve(),
};
const noopCache = guardCache(noop, {}, runtime);
const ctx = { signal: new AbortController().signal };
const calls = 500_000;
const timeLoop = async (op: () => Promise<unknown>): Promise<number> => {
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await op();
  return Number(process.hrtime.bigint() - started) / calls;
};
const bare: number[] = [];
const wrapped: number[] = [];
for (let round = 0; round < rounds; round++) {
  bare.push(await timeLoop(async () => JSON.parse((await noop.get('k', ctx))!) as unknown));
  wrapped.push(await timeLoop(() => noopCache.get('k')));
}
console.log(`guard.overhead.get.ns ${Math.round(median(wrapped) - median(bare))}`);
await noopCache.close();
