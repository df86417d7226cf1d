// Issue #27, "What it must show", on the embedded database + the memory broker: the workload of
// outbox-chaos-postgres-kafka while the relay dies twice in-process (its database and broker calls never
// return again: its loop stops where it is, its leases are neither renewed nor released) and the broker
// refuses for 3 s.
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryBroker } from '../../src/adapters/memory/index.ts';
import { createEmbeddedDatabase } from '../../src/adapters/postgres/embedded.ts';
import { InfraError, type Broker, type SqlDatabase } from '../../src/ports/index.ts';
import { createInbox, createOutbox, createOutboxRelay, type OutboxRelay } from '../../src/runtime/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { waitFor } from '../support/wait.ts';
import {
  partitions,
  leaseMs,
  tablesOf,
  workloadMigrations,
  newProgress,
  writeAll,
  consume,
  settleAndCheck,
} from '../support/outbox-chaos-workload.ts';

describe('outbox, relay and inbox under chaos: embedded + memory broker', () => {
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
