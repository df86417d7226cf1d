// The relay process of test/integration/outbox-chaos-postgres-kafka.test.ts: it builds the PostgreSQL database
// (RELAY_POSTGRES_URL), the kafkajs broker (RELAY_KAFKA_BROKERS), the outbox (RELAY_TABLE,
// RELAY_PARTITIONS) and createOutboxRelay (RELAY_LEASE_MS), prints `ready` once relaying, then
// `acked <n>` after each publish the broker acknowledged, and runs until it is killed (the test's
// commits wake it through PostgreSQL's notifications, as another process's would). With
// RELAY_FREEZE_AFTER_ACKS=<n> it stops itself (SIGSTOP) at the first acknowledgement that brings
// the total to n, before the relay can delete those rows, and prints `frozen <total> <batch>`:
// the parent then SIGKILLs it at a moment known to leave published rows in the outbox.
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createPostgresDatabase } from '../../src/adapters/postgres/index.ts';
import type { Broker } from '../../src/ports/index.ts';
import { createOutbox, createOutboxRelay } from '../../src/runtime/index.ts';
import { silentRuntime } from './runtime.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
};

const runtime = silentRuntime();
const database = createPostgresDatabase({ url: env('RELAY_POSTGRES_URL'), poolSize: 4 }, runtime);
const kafka = createKafkaBroker(
  {
    brokers: env('RELAY_KAFKA_BROKERS').split(','),
    clientId: 'outbox-relay-child',
    // While Kafka is down each publish fails fast; the relay's own backoff waits it out.
    policies: { timeoutMs: 3_000, breaker: { consecutiveFailures: 1_000_000 } },
  },
  runtime,
);
const freezeAfter = Number(process.env['RELAY_FREEZE_AFTER_ACKS'] ?? Infinity);
let acked = 0;
const broker: Broker = {
  ...kafka,
  publish: async (topic, messages, options) => {
    await kafka.publish(topic, messages, options);
    const batch = Array.isArray(messages) ? messages.length : 1;
    acked += batch;
    // Writes to a pipe are synchronous on Linux: the line is out before the stop.
    if (acked >= freezeAfter) {
      process.stdout.write(`frozen ${acked} ${batch}\n`);
      process.kill(process.pid, 'SIGSTOP');
    }
    process.stdout.write(`acked ${acked}\n`);
  },
};
const outbox = createOutbox({
  sql: database,
  table: env('RELAY_TABLE'),
  partitions: Number(env('RELAY_PARTITIONS')),
  runtime,
});
const relay = createOutboxRelay({
  outbox,
  broker,
  runtime,
  leaseMs: Number(env('RELAY_LEASE_MS')),
});
await database.start();
await relay.start();
process.stdout.write('ready\n');
// Until SIGKILL: the relay's loop and the clients keep the process alive.
