// Guarded Redis cache vs the raw node-redis client, interleaved in one process.
// Prints `ratio <name> <guarded/raw throughput>` lines and the guard's own cost per operation.
import { createClient } from 'redis';
import { Registry } from 'prom-client';
import { createRedisCache } from '../src/adapters/redis/index.ts';
import type { CacheAdapter } from '../src/ports/index.ts';
import { createLogger, createRuntime, guardCache } from '../src/runtime/index.ts';
import { ensureService } from '../test/servers/services.ts';

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
// node-redis arms a 5 s timer per command by default; berth turns it off because guard() owns
// deadlines. Comparing with both keeps that choice from flattering the ratio.
const rawUntimed = createClient({ url, commandOptions: { timeout: 0 } });
await rawUntimed.connect();
const guarded = createRedisCache({ url, keyPrefix: 'bench:' }, runtime);
const value = { id: 42, name: 'berth', tags: ['a', 'b'] };
await raw.set('bench:k', JSON.stringify(value));
for (let i = 0; i < 100; i++) await guarded.set(`w${i}`, value);

interface Pair {
  raw: (i: number) => Promise<unknown>;
  guarded: (i: number) => Promise<unknown>;
}

// The raw side does the same JSON work the port does, so only the guard's cost differs.
const cases: Record<string, Pair> = {
  get: {
    raw: async (): Promise<unknown> => JSON.parse((await raw.get('bench:k'))!) as unknown,
    guarded: (): Promise<unknown> => guarded.get('k'),
  },
  set: {
    raw: (i: number): Promise<unknown> => raw.set(`bench:w${i % 100}`, JSON.stringify(value)),
    guarded: (i: number): Promise<unknown> => guarded.set(`w${i % 100}`, value),
  },
  'get.vs-untimed-raw': {
    raw: async (): Promise<unknown> => JSON.parse((await rawUntimed.get('bench:k'))!) as unknown,
    guarded: (): Promise<unknown> => guarded.get('k'),
  },
  'set.vs-untimed-raw': {
    raw: (i: number): Promise<unknown> => rawUntimed.set(`bench:w${i % 100}`, JSON.stringify(value)),
    guarded: (i: number): Promise<unknown> => guarded.set(`w${i % 100}`, value),
  },
};

/** Concurrency 1: raw and guarded calls alternate one by one, so drift hits both alike. */
async function alternating(pair: Pair, total: number): Promise<{ raw: number; guarded: number }> {
  let rawNs = 0;
  let guardedNs = 0;
  for (let i = 0; i < total; i++) {
    const t0 = performance.now();
    await pair.raw(i);
    const t1 = performance.now();
    await pair.guarded(i);
    guardedNs += performance.now() - t1;
    rawNs += t1 - t0;
  }
  return { raw: total / (rawNs / 1000), guarded: total / (guardedNs / 1000) };
}

/** Concurrency 64: paired rounds back to back, alternating which side goes first. */
async function pairedRound(
  pair: Pair,
  total: number,
  round: number,
): Promise<{ raw: number; guarded: number }> {
  const rawFirst = round % 2 === 0;
  const first = await throughput(rawFirst ? pair.raw : pair.guarded, total, 64);
  const second = await throughput(rawFirst ? pair.guarded : pair.raw, total, 64);
  return rawFirst ? { raw: first, guarded: second } : { raw: second, guarded: first };
}

for (const concurrency of [1, 64]) {
  for (const [name, pair] of Object.entries(cases)) {
    const total = concurrency === 1 ? opsPerRound / 4 : opsPerRound;
    const measure = (round: number) =>
      concurrency === 1 ? alternating(pair, total) : pairedRound(pair, total, round);
    for (let warmup = 0; warmup < 2; warmup++) await measure(warmup);
    const rates: { raw: number; guarded: number }[] = [];
    for (let round = 0; round < rounds; round++) rates.push(await measure(round));
    const label = `cache.${name}.c${concurrency}`;
    const rawRate = Math.round(median(rates.map((r) => r.raw)));
    const guardedRate = Math.round(median(rates.map((r) => r.guarded)));
    console.error(
      `${label}: raw ${rawRate} ops/s, guarded ${guardedRate} ops/s (medians of ${rounds} rounds)`,
    );
    // The median of per-round ratios: each round's two sides ran under the same conditions.
    console.log(`ratio ${label} ${median(rates.map((r) => r.guarded / r.raw)).toFixed(3)}`);
  }
}
raw.destroy();
rawUntimed.destroy();
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
  scan: () => Promise.resolve({ keys: [], cursor: undefined }),
  clear: () => Promise.resolve(undefined),
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
