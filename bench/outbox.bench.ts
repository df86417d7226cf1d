// The transactional outbox on PostgreSQL + Kafka (kafkajs) vs a direct `broker.publish` after the
// transaction, interleaved in one process. Each write is a transaction inserting an order row: on
// the outbox side it also writes the message, which the relay (in this process, woken by the
// commit) publishes; on the direct side the message is published once the transaction committed.
// A consumer of each topic notes when each message reaches its handler.
//   throughput: 64 writers, timed from the first write until the consumer holds every message;
//     prints `ratio outbox.postgres-kafka.c64.vs-direct <outbox/direct>` (end to end) and
//     `ratio outbox.postgres-kafka.c64.commits.vs-direct` (the writers' own rate).
//   latency, from the write's commit to the consumer's handler: one message in flight (c1), the
//     sides taking turns message by message, and every message of the c64 rounds; prints
//     `latency outbox.postgres-kafka.<outbox|direct>.<c1|c64> p50 <ms> p99 <ms>`.
// BENCH_ROUNDS (default 5), BENCH_MESSAGES (per side per c64 round, 3,000), BENCH_LATENCY_MESSAGES
// (per side per c1 round, 100).
import { randomBytes, randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { createKafkaBroker } from '../src/adapters/kafka/index.ts';
import { createPostgresDatabase } from '../src/adapters/postgres/index.ts';
import { sql, type OutgoingMessage } from '../src/ports/index.ts';
import { createLogger, createOutbox, createOutboxRelay, createRuntime } from '../src/runtime/index.ts';
import { ensureService } from '../test/servers/services.ts';
import { collectGarbage, median } from './timing.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const messages = Number(process.env.BENCH_MESSAGES ?? 3_000);
const latencyMessages = Number(process.env.BENCH_LATENCY_MESSAGES ?? 100);
const writers = 64;
const poolSize = 10;

async function serverEnv(variable: string, service: string): Promise<string> {
  const value = process.env[variable] ?? (await ensureService(service))[variable];
  if (!value) throw new Error(`services did not provide ${variable}`);
  return value;
}

/** When each message id first reached a consumer's handler; `expect` resolves once all of some have. */
class Arrivals {
  readonly #at = new Map<string, number>();
  readonly #waiting = new Map<string, () => void>();

  note(id: string): void {
    if (this.#at.has(id)) return;
    this.#at.set(id, performance.now());
    this.#waiting.get(id)?.();
  }

  at(id: string): number {
    const at = this.#at.get(id);
    if (at === undefined) throw new Error(`message ${id} never arrived`);
    return at;
  }

  expect(ids: readonly string[], withinMs = 120_000): Promise<void> {
    let left = ids.filter((id) => !this.#at.has(id)).length;
    if (left === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        for (const id of ids) this.#waiting.delete(id);
        reject(new Error(`${left} of ${ids.length} messages not consumed within ${withinMs} ms`));
      }, withinMs);
      for (const id of ids)
        this.#waiting.set(id, () => {
          this.#waiting.delete(id);
          if (--left > 0) return;
          clearTimeout(timer);
          resolve();
        });
    });
  }
}

interface Side {
  readonly name: 'outbox' | 'direct';
  readonly arrivals: Arrivals;
  /** One order and its message; `committed` is called as soon as the transaction committed. */
  write(i: number, id: string, committed: () => void): Promise<void>;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

function latencyLine(name: string, samples: readonly number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const ms = (value: number) => value.toFixed(1);
  return `latency ${name} p50 ${ms(percentile(sorted, 0.5))} ms p99 ${ms(percentile(sorted, 0.99))} ms`;
}

/** `count` writes by 64 writers: the end-to-end and the writers' rates, and each message's latency. */
async function throughputRound(
  side: Side,
  count: number,
): Promise<{ rate: number; commitRate: number; latencies: number[] }> {
  const ids = Array.from({ length: count }, () => randomUUID());
  const committedAt = new Array<number>(count);
  const consumed = side.arrivals.expect(ids);
  let next = 0;
  collectGarbage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < count) {
        const i = next++;
        await side.write(i, ids[i]!, () => (committedAt[i] = performance.now()));
      }
    }),
  );
  const written = performance.now();
  await consumed;
  const done = performance.now();
  return {
    rate: count / ((done - started) / 1_000),
    commitRate: count / ((written - started) / 1_000),
    latencies: ids.map((id, i) => side.arrivals.at(id) - committedAt[i]!),
  };
}

/** One message at a time, the sides taking turns; each waits until its message was consumed. */
async function latencyRound(sides: readonly Side[], count: number, round: number): Promise<number[][]> {
  const latencies: number[][] = sides.map(() => []);
  collectGarbage();
  for (let i = 0; i < count; i++)
    for (let k = 0; k < sides.length; k++) {
      const which = (round + i + k) % sides.length;
      const side = sides[which]!;
      const id = randomUUID();
      let committedAt = 0;
      const consumed = side.arrivals.expect([id]);
      await side.write(i, id, () => (committedAt = performance.now()));
      await consumed;
      latencies[which]!.push(side.arrivals.at(id) - committedAt);
    }
  return latencies;
}

const [url, kafkaBrokers] = await Promise.all([
  serverEnv('POSTGRES_URL', 'postgres'),
  serverEnv('KAFKA_BROKERS', 'kafka'),
]);
const brokers = kafkaBrokers.split(',');
const runtime = createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry() });
const run = randomBytes(4).toString('hex');
const table = `bench_outbox_${run}`;
const ordersTable = `${table}_orders`;
const migrationsTable = `${table}_migrations`;
// Deadlines long enough for a busy machine: a timed-out call would measure nothing.
const policies = { timeoutMs: 30_000 };
const db = createPostgresDatabase(
  { url, poolSize, acquireTimeoutMs: 30_000, migrationsTable, policies },
  runtime,
);
// One producer for the relay and the direct publishes, as in an application; the consumers apart.
const producer = createKafkaBroker({ brokers, clientId: 'bench-outbox', policies }, runtime);
const consumer = createKafkaBroker({ brokers, clientId: 'bench-outbox-consumer', policies }, runtime);
const outbox = createOutbox({ sql: db, table, runtime });
const relay = createOutboxRelay({ outbox, broker: producer, runtime });
const topics = { outbox: `bench-outbox-${run}`, direct: `bench-direct-${run}` };
const orders = sql.id(ordersTable);
const message = (i: number, id: string): OutgoingMessage<{ order: string; total: number }> => ({
  key: `k${i % 100}`,
  id,
  value: { order: id, total: i },
});

const sides: Side[] = [
  {
    name: 'outbox',
    arrivals: new Arrivals(),
    async write(i, id, committed) {
      await outbox.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO ${orders} (id, total) VALUES (${id}, ${i})`);
        await tx.publish(topics.outbox, message(i, id));
      });
      committed();
    },
  },
  {
    name: 'direct',
    arrivals: new Arrivals(),
    async write(i, id, committed) {
      await db.transaction((tx) => tx.execute(sql`INSERT INTO ${orders} (id, total) VALUES (${id}, ${i})`));
      committed();
      await producer.publish(topics.direct, message(i, id));
    },
  },
];

try {
  await db.migrate([
    ...outbox.migrations,
    {
      id: `${ordersTable}.001`,
      sql: `CREATE TABLE ${ordersTable} (id text PRIMARY KEY, total integer NOT NULL)`,
    },
  ]);
  const subscriptions = sides.map((side) =>
    consumer.subscribe<{ order: string }>(
      topics[side.name],
      (received) => {
        side.arrivals.note(received.id);
        return Promise.resolve();
      },
      { group: `bench-outbox-${run}-${side.name}`, fromBeginning: true, concurrency: 16 },
    ),
  );
  await Promise.all(subscriptions.map((subscription) => subscription.ready));
  await relay.start();

  // Warm: both pools open, the topics' metadata known, the relay's partitions leased.
  for (const side of sides) await throughputRound(side, 500);
  await latencyRound(sides, 20, 0);

  const throughput = { outbox: [] as number[], direct: [] as number[] };
  const commits = { outbox: [] as number[], direct: [] as number[] };
  const latency = {
    c1: { outbox: [] as number[], direct: [] as number[] },
    c64: { outbox: [] as number[], direct: [] as number[] },
  };
  const vsDirect: number[] = [];
  const commitsVsDirect: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const results = new Map<Side['name'], Awaited<ReturnType<typeof throughputRound>>>();
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(round + k) % sides.length]!;
      results.set(side.name, await throughputRound(side, messages));
    }
    const viaOutbox = results.get('outbox')!;
    const direct = results.get('direct')!;
    for (const [name, result] of results) {
      throughput[name].push(result.rate);
      commits[name].push(result.commitRate);
      latency.c64[name].push(...result.latencies);
    }
    vsDirect.push(viaOutbox.rate / direct.rate);
    commitsVsDirect.push(viaOutbox.commitRate / direct.commitRate);
    const [outboxC1, directC1] = await latencyRound(sides, latencyMessages, round);
    latency.c1.outbox.push(...outboxC1!);
    latency.c1.direct.push(...directC1!);
    const p50 = (values: number[]) =>
      percentile(
        [...values].sort((a, b) => a - b),
        0.5,
      ).toFixed(1);
    console.error(
      `round ${round}: c64 end to end outbox ${Math.round(viaOutbox.rate)}/s, direct ${Math.round(direct.rate)}/s; ` +
        `commits outbox ${Math.round(viaOutbox.commitRate)}/s, direct ${Math.round(direct.commitRate)}/s; ` +
        `c1 p50 outbox ${p50(outboxC1!)} ms, direct ${p50(directC1!)} ms`,
    );
  }
  console.error(
    `c64 end to end: outbox ${Math.round(median(throughput.outbox))}/s, direct ${Math.round(median(throughput.direct))}/s; ` +
      `commits: outbox ${Math.round(median(commits.outbox))}/s, direct ${Math.round(median(commits.direct))}/s ` +
      `(medians of ${rounds} rounds of ${messages} messages a side)`,
  );
  // The median of per-round ratios: each round's two sides ran under the same conditions.
  console.log(`ratio outbox.postgres-kafka.c64.vs-direct ${median(vsDirect).toFixed(3)}`);
  console.log(`ratio outbox.postgres-kafka.c64.commits.vs-direct ${median(commitsVsDirect).toFixed(3)}`);
  for (const load of ['c1', 'c64'] as const)
    for (const name of ['outbox', 'direct'] as const)
      console.log(latencyLine(`outbox.postgres-kafka.${name}.${load}`, latency[load][name]));
  await Promise.all(subscriptions.map((subscription) => subscription.close()));
} finally {
  await relay.close();
  await producer.close();
  await consumer.close();
  await db
    .execute({
      text: `DROP TABLE IF EXISTS ${table}, ${table}_leases, ${table}_relays, ${ordersTable}, ${migrationsTable}`,
    })
    .catch((error: unknown) => console.error('could not drop the bench tables:', error));
  await db.close();
}
