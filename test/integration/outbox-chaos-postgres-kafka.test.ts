// Issue #27, "What it must show", on PostgreSQL + Kafka: 10,000 messages over 100 keys written through the
// outbox by concurrent transactions while the relay (a child process, test/support/outbox-relay-child.ts)
// is SIGKILLed twice and Kafka (a node of this file's own) is stopped and started again; every message
// arrives, each key's first arrivals in commit order, and the inbox applies each exactly once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createPostgresDatabase } from '../../src/adapters/postgres/index.ts';
import { type Broker, type Subscription } from '../../src/ports/index.ts';
import { createInbox, createOutbox } from '../../src/runtime/index.ts';
import { canProvide } from '../servers/services.ts';
import { ownService, type OwnService } from '../support/own-service.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findPostgres } from '../support/servers.ts';
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

describe('outbox, relay and inbox under chaos: PostgreSQL + Kafka', () => {
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
});
