// Issue #27, "What it must show": 10,000 messages over 100 keys written through the outbox by
// concurrent transactions while the relay dies twice and the broker goes away once; every message
// arrives, the first arrivals of each key are in the order its transactions committed, and the
// inbox applies each exactly once (effects = 10,000). On PostgreSQL + Kafka the relay is a child
// process (test/support/outbox-relay-child.ts) that is SIGKILLed, and Kafka is a node of this
// file's own, stopped and started again; on the embedded database + the memory broker the relay
// can only die in-process (its database and broker calls never return again: its loop stops
// where it is, its leases are neither renewed nor released) and the broker refuses for 3 s.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createMemoryBroker } from '../../src/adapters/memory/index.ts';
import { createEmbeddedDatabase } from '../../src/adapters/postgres/embedded.ts';
import { createPostgresDatabase } from '../../src/adapters/postgres/index.ts';
import {
  InfraError,
  sql,
  type Broker,
  type Migration,
  type SqlDatabase,
  type Subscription,
} from '../../src/ports/index.ts';
import {
  createInbox,
  createOutbox,
  createOutboxRelay,
  type Inbox,
  type Outbox,
  type OutboxRelay,
} from '../../src/runtime/index.ts';
import { canProvide } from '../servers/services.ts';
import { ownService, type OwnService } from '../support/own-service.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findPostgres } from '../support/servers.ts';
import { waitFor } from '../support/wait.ts';

const total = 10_000;
const keys = 100;
const partitions = 16;
// Short, so a dead relay's partitions move to the next one within 2 s.
const leaseMs = 2_000;
const consumer = 'chaos-effects';

interface Tables {
  outbox: string;
  inbox: string;
  effects: string;
  counters: string;
}

const tablesOf = (prefix: string): Tables => ({
  outbox: `${prefix}_outbox`,
  inbox: `${prefix}_inbox`,
  effects: `${prefix}_effects`,
  counters: `${prefix}_counters`,
});

/** Each key's counter numbers its messages in commit order; each effect is a row, in the order applied. */
const workloadMigrations = (tables: Tables): Migration[] => [
  {
    id: `${tables.effects}.001`,
    sql: [
      `CREATE TABLE ${tables.counters} (msg_key text PRIMARY KEY, n integer NOT NULL)`,
      `INSERT INTO ${tables.counters} (msg_key, n) SELECT 'key-' || k, 0 FROM generate_series(0, ${keys - 1}) AS k`,
      `CREATE TABLE ${tables.effects} (seq bigserial PRIMARY KEY, msg_key text NOT NULL, n integer NOT NULL, message_id text NOT NULL)`,
    ].join(';\n'),
  },
];

interface Progress {
  written: number;
  /** Messages handed to the consumer's handler, repeats included. */
  deliveries: number;
  /** Handler attempts that failed (their transaction rolled back), to be tried again. */
  failedAttempts: number;
  /** Each key's numbers in the order their ids first arrived. */
  readonly firstArrivals: Map<string, number[]>;
  readonly seen: Set<string>;
}

const newProgress = (): Progress => ({
  written: 0,
  deliveries: 0,
  failedAttempts: 0,
  firstArrivals: new Map(),
  seen: new Set(),
});

/**
 * 10,000 messages, each key 100 times, in transactions of 1 to 10 messages on distinct keys taken
 * from a shuffled list by 8 concurrent writers. Each transaction numbers its messages from the
 * keys' counters, locked in key order (so two transactions never wait on each other in a circle):
 * a key's numbers are the order in which its transactions committed, which the outbox must keep.
 */
async function writeAll(
  outbox: Outbox,
  topic: string,
  tables: Tables,
  progress: Progress,
  writesPerSecond: number,
): Promise<void> {
  const slots = Array.from({ length: total }, (_, i) => `key-${i % keys}`);
  for (let i = slots.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [slots[i], slots[j]] = [slots[j]!, slots[i]!];
  }
  let next = 0;
  const started = performance.now();
  const counters = sql.id(tables.counters);
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < slots.length) {
        const size = 1 + Math.floor(Math.random() * 10);
        const waitMs = started + (next / writesPerSecond) * 1_000 - performance.now();
        const mine: string[] = [];
        while (mine.length < size && next < slots.length && !mine.includes(slots[next]!))
          mine.push(slots[next++]!);
        if (waitMs > 0) await sleep(waitMs);
        await outbox.transaction(async (tx) => {
          const numbered = await tx.query<{ msg_key: string; n: number }>(
            sql`UPDATE ${counters} AS c SET n = c.n + 1 FROM (SELECT msg_key FROM ${counters} WHERE msg_key IN (${sql.join(mine)}) ORDER BY msg_key FOR UPDATE) AS locked WHERE c.msg_key = locked.msg_key RETURNING c.msg_key, c.n`,
          );
          assert.equal(numbered.length, mine.length);
          await tx.publish(
            topic,
            numbered.map(({ msg_key: key, n }) => ({ key, value: { key, n } })),
          );
        });
        progress.written += mine.length;
      }
    }),
  );
}

/** The consumer: notes first arrivals, then the inbox's handler writes one effect row per message. */
function consume(
  broker: Broker,
  inbox: Inbox,
  topic: string,
  group: string,
  tables: Tables,
  progress: Progress,
): Subscription {
  const applied = inbox.handler<{ key: string; n: number }>(consumer, async (message, tx) => {
    await tx.execute(
      sql`INSERT INTO ${sql.id(tables.effects)} (msg_key, n, message_id) VALUES (${message.value.key}, ${message.value.n}, ${message.id})`,
    );
  });
  return broker.subscribe<{ key: string; n: number }>(
    topic,
    async (message, signal) => {
      progress.deliveries++;
      if (!progress.seen.has(message.id)) {
        progress.seen.add(message.id);
        const list = progress.firstArrivals.get(message.value.key) ?? [];
        list.push(message.value.n);
        progress.firstArrivals.set(message.value.key, list);
      }
      await applied(message, signal).catch((error: unknown) => {
        progress.failedAttempts++;
        throw error;
      });
    },
    { group, fromBeginning: true, concurrency: 8, maxAttempts: 10 },
  );
}

const countOf = async (database: SqlDatabase, table: string, what = 'COUNT(*)'): Promise<number> => {
  // `what` and `table` are this file's own words, never input.
  const [row] = await database.query<{ n: number | string }>({ text: `SELECT ${what} AS n FROM ${table}` });
  return Number(row?.n ?? 0);
};

/** Waits for every effect and an empty outbox, then checks order and exactly-once; prints the figures. */
async function settleAndCheck(
  t: TestContext,
  database: SqlDatabase,
  tables: Tables,
  inbox: Inbox,
  progress: Progress,
  startedMs: number,
  faults: string,
): Promise<void> {
  let effects = 0;
  let pending = 0;
  await waitFor(
    'every message applied and the outbox empty',
    async () => {
      effects = await countOf(database, tables.effects);
      pending = await countOf(database, tables.outbox);
      return effects >= total && pending === 0;
    },
    120_000,
    {
      everyMs: 250,
      saw: () =>
        `written ${progress.written}, first arrivals ${progress.seen.size}, effects ${effects}, outbox rows ${pending}`,
    },
  );
  const tookMs = performance.now() - startedMs;
  // Late repeats (a relay's batch published twice) must change nothing either.
  await sleep(1_000);
  assert.equal(progress.seen.size, total, 'every message arrived');
  for (let k = 0; k < keys; k++) {
    const key = `key-${k}`;
    assert.deepEqual(
      progress.firstArrivals.get(key),
      Array.from({ length: total / keys }, (_, n) => n + 1),
      `${key}: first arrivals in commit order`,
    );
  }
  assert.equal(await countOf(database, tables.effects), total, 'effects: exactly one per message');
  assert.equal(await countOf(database, tables.effects, 'COUNT(DISTINCT message_id)'), total);
  const applied = await database.query<{ msg_key: string; n: number }>(
    sql`SELECT msg_key, n FROM ${sql.id(tables.effects)} ORDER BY seq`,
  );
  for (const [key, rows] of Map.groupBy(applied, (row) => row.msg_key))
    assert.deepEqual(
      rows.map((row) => row.n),
      Array.from({ length: total / keys }, (_, n) => n + 1),
      `${key}: effects applied in order`,
    );
  const duplicates = inbox.duplicates.get(consumer) ?? 0;
  t.diagnostic(
    `${total} messages over ${keys} keys, ${faults}: all arrived in order per key in ${(tookMs / 1_000).toFixed(1)} s; ` +
      `${progress.deliveries} deliveries, ${duplicates} duplicates absorbed by the inbox, ` +
      `${progress.failedAttempts} handler attempts failed and tried again, ${total} effects`,
  );
  assert.equal(
    progress.deliveries - progress.failedAttempts - duplicates,
    total,
    'each delivery beyond the first of an id was absorbed by the inbox',
  );
}

const postgres = await findPostgres();
const kafkaSkip =
  canProvide('kafka') || process.env['CI'] === 'true'
    ? false
    : 'this machine cannot run Kafka locally (Java and Maven are needed): the test runs a Kafka of its own';
const postgresKafkaSkip = 'skip' in postgres ? postgres.skip : kafkaSkip;
const relayScript = path.join(import.meta.dirname, '..', 'support', 'outbox-relay-child.ts');

/** A relay process; `lines` is what it printed. */
interface RelayProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first line `match` accepts from the `from`-th printed on. */
  line(match: (line: string) => boolean, what: string, withinMs: number, from?: number): Promise<string>;
  /** SIGKILL; resolves once it is gone, failing unless SIGKILL is what ended it. */
  kill(): Promise<void>;
}

/** A relay process; `crashed` hears of its end when it ended by itself (not by `kill()`). */
function startRelay(env: Record<string, string>, crashed: (error: Error) => void): RelayProcess {
  const child = spawn(process.execPath, [relayScript], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let killed = false;
  void exited.then(([code, signal]) => {
    if (!killed)
      crashed(new Error(`a relay process ended by itself (${code ?? signal}); its stderr is above`));
  });
  return {
    child,
    lines,
    line: (match, what, withinMs, first = 0) =>
      new Promise((resolve, reject) => {
        let from = first;
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `relay process: no ${what} within ${withinMs} ms; last lines: ${lines.slice(-5).join(' | ')}`,
            ),
          );
        }, withinMs);
        const check = (): void => {
          const found = lines.slice(from).find(match);
          from = lines.length;
          if (found === undefined) {
            if (child.exitCode !== null || child.signalCode !== null) {
              clearTimeout(timer);
              waiters.delete(check);
              reject(new Error(`relay process ended (${child.exitCode ?? child.signalCode}) before ${what}`));
            }
            return;
          }
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      }),
    kill: async () => {
      assert.equal(child.exitCode, null, 'the relay process was still running');
      killed = true;
      child.kill('SIGKILL');
      const [, signal] = await exited;
      assert.equal(signal, 'SIGKILL');
    },
  };
}

describe('outbox, relay and inbox under chaos', { concurrency: true }, () => {
  it(
    'PostgreSQL + Kafka: 10,000 messages over 100 keys all arrive, in commit order per key, applied exactly once through the inbox, while the relay process is SIGKILLed twice and Kafka is stopped and restarted',
    { skip: postgresKafkaSkip, timeout: 240_000 },
    async (t) => {
      if ('skip' in postgres) return;
      const node: OwnService = await ownService('kafka');
      const run = randomBytes(4).toString('hex');
      const tables = tablesOf(`berth_chaos_${run}`);
      const migrationsTable = `berth_chaos_${run}_migrations`;
      const runtime = silentRuntime({ timeoutMs: 10_000 });
      const writers = createPostgresDatabase(
        { url: postgres.url, poolSize: 8, migrationsTable, acquireTimeoutMs: 10_000 },
        runtime,
      );
      const reader = createPostgresDatabase(
        { url: postgres.url, poolSize: 8, migrationsTable, acquireTimeoutMs: 10_000 },
        runtime,
      );
      const relays: RelayProcess[] = [];
      let crashed: (error: Error) => void = () => undefined;
      const relayCrashed = new Promise<never>((_, reject) => (crashed = reject));
      relayCrashed.catch(() => undefined);
      let broker: Broker | undefined;
      let subscription: Subscription | undefined;
      try {
        await node.services('up', 'kafka');
        const brokers = [`127.0.0.1:${node.port}`];
        const outbox = createOutbox({ sql: writers, table: tables.outbox, partitions, runtime });
        const inbox = createInbox({ sql: reader, table: tables.inbox, runtime });
        await writers.migrate([...outbox.migrations, ...inbox.migrations, ...workloadMigrations(tables)]);
        const topic = `outbox-chaos-${run}`;
        const relayEnv = {
          RELAY_POSTGRES_URL: postgres.url,
          RELAY_KAFKA_BROKERS: brokers.join(','),
          RELAY_TABLE: tables.outbox,
          RELAY_PARTITIONS: String(partitions),
          RELAY_LEASE_MS: String(leaseMs),
        };
        const relay = (env: Record<string, string> = {}): RelayProcess => {
          const started = startRelay({ ...relayEnv, ...env }, crashed);
          relays.push(started);
          return started;
        };
        broker = createKafkaBroker({ brokers, clientId: 'outbox-chaos-consumer' }, runtime);
        const progress = newProgress();
        subscription = consume(broker, inbox, topic, `outbox-chaos-${run}`, tables, progress);
        await subscription.ready;

        const scenario = async (): Promise<void> => {
          // Writes spread over about 35 s, so that each fault falls while they go on (stopping and
          // starting Kafka takes 15 s here).
          const startedMs = performance.now();
          const writing = writeAll(outbox, topic, tables, progress, 300);
          writing.catch(() => undefined);
          const at = (): string => `${progress.written} written, ${progress.seen.size} arrived`;
          const acked = (relay: RelayProcess, what: string, from = 0): Promise<string> =>
            relay.line((l) => l.startsWith('acked '), what, 60_000, from);

          // The first relay stops itself right after the broker acknowledged a batch, before deleting
          // it, and is SIGKILLed there: that batch is surely published again by the next one.
          let current = relay({ RELAY_FREEZE_AFTER_ACKS: '1500' });
          const frozen = await current.line((l) => l.startsWith('frozen '), 'frozen line', 60_000);
          await current.kill();
          t.diagnostic(
            `relay process 1 SIGKILLed right after an acknowledged publish (${frozen}) at ${at()}`,
          );
          current = relay();

          await waitFor('2,500 written', () => progress.written >= 2_500, 60_000, { everyMs: 20 });
          await acked(current, 'publish by the second relay');
          const stopping = performance.now();
          t.diagnostic(`kafka stopping at ${at()}`);
          await node.services('down', 'kafka');
          const stopped = performance.now();
          await sleep(3_000);
          await node.services('up', 'kafka');
          const back = current.lines.length;
          const seconds = (from: number, to = performance.now()): string => ((to - from) / 1_000).toFixed(1);
          t.diagnostic(
            `kafka stopped in ${seconds(stopping, stopped)} s, down 3 s, up again in ${seconds(stopped + 3_000)} s, at ${at()}`,
          );

          // The second relay is SIGKILLed wherever it is, once it publishes again.
          await acked(current, 'publish after kafka returned', back);
          await waitFor('7,000 written', () => progress.written >= 7_000, 60_000, { everyMs: 20 });
          await current.kill();
          t.diagnostic(`relay process 2 SIGKILLed at ${at()}`);
          relay();
          await writing;
          await settleAndCheck(
            t,
            reader,
            tables,
            inbox,
            progress,
            startedMs,
            'relay SIGKILLed twice, Kafka restarted',
          );
        };
        // A relay process that dies by itself fails the test now, not at the wait it stalls.
        const running = scenario();
        running.catch(() => undefined);
        await Promise.race([running, relayCrashed]);
      } finally {
        await subscription?.close().catch(() => undefined);
        await broker?.close().catch(() => undefined);
        for (const started of relays) started.child.kill('SIGKILL');
        const { outbox, inbox, effects, counters } = tables;
        const drop = [
          outbox,
          `${outbox}_leases`,
          `${outbox}_relays`,
          inbox,
          effects,
          counters,
          migrationsTable,
        ];
        await writers.execute({ text: `DROP TABLE IF EXISTS ${drop.join(', ')}` }).catch(() => undefined);
        await writers.close();
        await reader.close();
        await node.services('down', 'kafka').catch(() => undefined);
        fs.rmSync(node.stateDir, { recursive: true, force: true });
      }
    },
  );

  it(
    'embedded + memory broker: 10,000 messages over 100 keys all arrive, in commit order per key, applied exactly once through the inbox, while the relay dies twice in-process (its calls never return, its leases are left to expire) and the broker refuses publishes for 3 s',
    { timeout: 240_000 },
    async (t) => {
      const runtime = silentRuntime({ timeoutMs: 10_000 });
      // One connection for everyone: callers queue for it, longer than the default second under load.
      const database = createEmbeddedDatabase({ acquireTimeoutMs: 30_000 }, runtime);
      const memory = createMemoryBroker({}, runtime);
      const tables = tablesOf('chaos');
      try {
        await database.start();
        const outbox = createOutbox({ sql: database, table: tables.outbox, partitions, runtime });
        const inbox = createInbox({ sql: database, table: tables.inbox, runtime });
        await database.migrate([...outbox.migrations, ...inbox.migrations, ...workloadMigrations(tables)]);
        const topic = 'outbox-chaos';
        const progress = newProgress();
        const subscription = consume(memory, inbox, topic, 'outbox-chaos', tables, progress);
        await subscription.ready;
        let refusing = false;
        const relay = (crashAfterAcks?: number): MortalRelay =>
          mortalRelay(database, memory, () => refusing, tables.outbox, crashAfterAcks);

        // As on PostgreSQL, though here one connection serves the writers, the relays and the inbox.
        const startedMs = performance.now();
        const writing = writeAll(outbox, topic, tables, progress, 300);
        writing.catch(() => undefined);
        const at = (): string => `${progress.written} written, ${progress.seen.size} arrived`;

        // The first relay dies right after the broker acknowledged a batch, before deleting it.
        let current = relay(1_000);
        await current.relay.start();
        await waitFor('the first relay died after an acknowledged publish', () => current.dead, 60_000, {
          everyMs: 20,
          saw: () => `acked ${current.acked}, ${at()}`,
        });
        t.diagnostic(
          `relay 1 died right after the broker acknowledged ${current.acked} messages, at ${at()}`,
        );
        current = relay();
        await current.relay.start();

        await waitFor(
          '4,000 written and the second relay publishing',
          () => progress.written >= 4_000 && current.acked > 0,
          60_000,
          { everyMs: 20 },
        );
        refusing = true;
        t.diagnostic(`broker refusing at ${at()}`);
        await sleep(3_000);
        refusing = false;
        const back = current.acked;

        await waitFor(
          '7,000 written and publishing again',
          () => progress.written >= 7_000 && current.acked > back,
          60_000,
          { everyMs: 20 },
        );
        current.die();
        t.diagnostic(`relay 2 died at ${at()}`);
        const last = relay();
        await last.relay.start();
        await writing;
        await settleAndCheck(
          t,
          database,
          tables,
          inbox,
          progress,
          startedMs,
          'relay dead twice in-process, broker refusing for 3 s',
        );
        await subscription.close();
        await last.relay.close();
      } finally {
        await memory.close();
        await database.close();
      }
    },
  );
});

/** A relay that can die in this process, as its process would: see `mortalRelay`. */
interface MortalRelay {
  readonly relay: OutboxRelay;
  readonly dead: boolean;
  readonly acked: number;
  die(): void;
}

/**
 * A relay whose database and broker calls, once it is dead, never settle (a call in flight ran
 * but its answer never comes back): its loop stops wherever it was, nothing is deleted or
 * released after that, and its leases run out as a killed process's do. `crashAfterAcks`: it
 * dies on its own right after the broker acknowledged that many messages, before their delete.
 * `refusing()`: while true, publishes fail as `unavailable`, as to a broker that is down.
 */
function mortalRelay(
  database: SqlDatabase,
  broker: Broker,
  refusing: () => boolean,
  table: string,
  crashAfterAcks?: number,
): MortalRelay {
  let dead = false;
  let acked = 0;
  const never = new Promise<never>(() => undefined);
  const unlessDead = <T>(call: () => Promise<T>): Promise<T> =>
    dead
      ? never
      : call().then(
          (value) => (dead ? never : value),
          (error: unknown) => (dead ? never : Promise.reject(error)),
        );
  const mortalDatabase = new Proxy(database, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (property === 'query' || property === 'execute') {
        const call = value as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => unlessDead(() => call.apply(target, args));
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  const mortalBroker: Broker = {
    ...broker,
    publish: (topic, messages, options) =>
      unlessDead(async () => {
        if (refusing()) throw new InfraError('unavailable', 'broker down for the test', { port: 'broker' });
        await broker.publish(topic, messages, options);
        acked += Array.isArray(messages) ? messages.length : 1;
        if (crashAfterAcks !== undefined && acked >= crashAfterAcks) dead = true;
      }),
  };
  const runtime = silentRuntime();
  const outbox = createOutbox({ sql: mortalDatabase, table, partitions, runtime });
  const relay = createOutboxRelay({ outbox, broker: mortalBroker, runtime, leaseMs, pollIntervalMs: 50 });
  return {
    relay,
    get dead() {
      return dead;
    },
    get acked() {
      return acked;
    },
    die: () => {
      dead = true;
    },
  };
}
