// Kafka on three brokers, on both Kafka drivers: a topic of three replicas and min.insync.replicas=2, berth's broker
// publishing 10,000 keyed messages while the node leading partition 0 is SIGKILLed and, later,
// started again. Nothing acknowledged may be lost, each key's messages stay in order, and the
// duplicates (a publish that failed at the caller but landed, then retried) are counted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { createKafkaBroker } from '../../src/adapters/kafka/index.ts';
import { createPlatformaticKafkaBroker } from '../../src/adapters/platformatic-kafka/index.ts';
import { isInfraError, type Broker } from '../../src/index.ts';
import { findKafkaCluster } from '../support/kafka-cluster.ts';
import { silentRuntime } from '../support/runtime.ts';
import { waitFor } from '../support/wait.ts';

const { Kafka: KafkaClient, logLevel, ConfigResourceTypes } = kafkajs;

const cluster = await findKafkaCluster();

const drivers = { kafkajs: createKafkaBroker, 'platformatic-kafka': createPlatformaticKafkaBroker };
const KEYS = 100;
const PER_KEY = 100;
const PARTITIONS = 6;
/** Each key publishes one message, then waits this long: ~250 messages/s over the outage. */
const PACE_MS = 400;
const ATTEMPT_MS = 2_000;
const BUDGET_MS = 4_000;
/** Beyond the budget: the deadline scheduler's tick and a busy event loop on two shared cores. */
const SETTLE_SLACK_MS = 1_000;
/** Each key's last messages wait until the restarted node is back, so some go to a full cluster. */
const TAIL_FROM = 90;

async function partitions(admin: Admin, topic: string) {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]?.partitions ?? [];
}

/** Per key, in log order: repeats of a number already seen, numbers out of order, numbers never seen. */
function checkKeys(sequences: Map<string, number[]>): {
  duplicates: number;
  outOfOrder: number;
  lost: number;
} {
  let duplicates = 0;
  let outOfOrder = 0;
  let lost = 0;
  for (let k = 0; k < KEYS; k++) {
    const seen = new Set<number>();
    let next = 0;
    for (const seq of sequences.get(`key-${k}`) ?? []) {
      if (seen.has(seq)) duplicates++;
      else {
        if (seq !== next) outOfOrder++;
        seen.add(seq);
        next = seq + 1;
      }
    }
    lost += PER_KEY - seen.size;
  }
  return { duplicates, outOfOrder, lost };
}

/** Every record of the topic, up to the end offsets read first, as key → sequence numbers in log order. */
async function readAll(
  kafka: Kafka,
  admin: Admin,
  topic: string,
): Promise<{ records: number; sequences: Map<string, number[]> }> {
  const ends = await admin.fetchTopicOffsets(topic);
  const records = ends.reduce((sum, end) => sum + Number(end.high) - Number(end.low), 0);
  const sequences = new Map<string, number[]>();
  let read = 0;
  const consumer = kafka.consumer({ groupId: `${topic}-check`, sessionTimeout: 10_000 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const { key, seq } = JSON.parse(message.value!.toString()) as { key: string; seq: number };
          let list = sequences.get(key);
          if (list === undefined) sequences.set(key, (list = []));
          list.push(seq);
          read++;
        }
        await Promise.resolve();
      },
    });
    await waitFor(`all ${records} records read back`, () => read >= records, 90_000);
  } finally {
    await consumer.disconnect();
  }
  return { records, sequences };
}

describe('kafka on three brokers', { skip: 'skip' in cluster ? cluster.skip : false }, () => {
  for (const [driver, create] of Object.entries(drivers))
    it(
      `${driver}: loses no acknowledged message and keeps each key in order while a broker is killed and restarted`,
      { timeout: 240_000 },
      async () => {
        if ('skip' in cluster) return;
        const topic = `cluster-failover-${driver}-${process.pid}-${Date.now()}`;
        const kafka = new KafkaClient({ brokers: cluster.brokers, logLevel: logLevel.NOTHING });
        const admin = kafka.admin();
        let broker: Broker | undefined;
        let stopPublishing = (): void => undefined;
        try {
          await admin.connect();
          await admin.createTopics({
            topics: [
              {
                topic,
                numPartitions: PARTITIONS,
                replicationFactor: 3,
                configEntries: [{ name: 'min.insync.replicas', value: '2' }],
              },
            ],
            waitForLeaders: false,
          });
          // kafkajs's own wait gave up after ~1 s while a new cluster's brokers still learnt the topic.
          await waitFor(
            `${PARTITIONS} partitions with a leader and 3 replicas in sync`,
            async () => {
              const created = await partitions(admin, topic).catch(() => []);
              return (
                created.length === PARTITIONS && created.every((p) => p.leader >= 0 && p.isr.length === 3)
              );
            },
            60_000,
          );
          // The broker asked may not know the topic yet either (UNKNOWN_TOPIC_OR_PARTITION): ask again.
          let minInsync: string | undefined;
          await waitFor(
            'the topic configuration',
            async () => {
              const configs = await admin
                .describeConfigs({
                  resources: [
                    { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] },
                  ],
                  includeSynonyms: false,
                })
                .catch(() => undefined);
              minInsync = configs?.resources[0]?.configEntries[0]?.configValue;
              return configs !== undefined;
            },
            30_000,
          );
          assert.equal(minInsync, '2', 'min.insync.replicas=2');

          broker = create(
            {
              brokers: cluster.brokers,
              topics: { autoCreate: false },
              policies: {
                timeoutMs: ATTEMPT_MS,
                totalTimeoutMs: BUDGET_MS,
                breaker: { halfOpenAfterMs: 500 },
              },
            },
            silentRuntime(),
          );
          const publisher = broker;

          let acked = 0;
          let stopped = false;
          stopPublishing = () => (stopped = true);
          const failures: { reason: string; message: string; ms: number }[] = [];
          let releaseTail = (): void => undefined;
          const tail = new Promise<void>((resolve) => (releaseTail = resolve));
          // An application retries a publish that failed: at-least-once starts at the producer.
          const publishKey = async (k: number): Promise<void> => {
            const key = `key-${k}`;
            await sleep(Math.random() * PACE_MS);
            for (let seq = 0; seq < PER_KEY && !stopped; seq++) {
              if (seq === TAIL_FROM) await tail;
              while (!stopped) {
                const started = performance.now();
                try {
                  await publisher.publish(topic, { key, value: { key, seq } });
                  acked++;
                  break;
                } catch (error) {
                  if (!isInfraError(error)) throw error;
                  failures.push({
                    reason: error.reason,
                    message: error.message,
                    ms: performance.now() - started,
                  });
                  await sleep(200);
                }
              }
              await sleep(PACE_MS);
            }
          };
          const publishing = Promise.all(Array.from({ length: KEYS }, (_, k) => publishKey(k)));
          // A publish that fails with anything but an InfraError ends the waits below at once.
          let laneError: Error | undefined;
          publishing.catch(
            (error: unknown) => (laneError = error instanceof Error ? error : new Error(String(error))),
          );
          const ackedAtLeast = (count: number): boolean => {
            if (laneError !== undefined) throw laneError;
            return acked >= count;
          };

          await waitFor('2,000 messages acknowledged before the kill', () => ackedAtLeast(2_000), 60_000);
          const victim = (await partitions(admin, topic)).find(
            (partition) => partition.partitionId === 0,
          )!.leader;
          const ackedAtKill = acked;
          const killedAt = performance.now();
          await cluster.kill(victim);

          const outageFailures = (): string =>
            `${acked} acknowledged, ${failures.length} failed calls: ` +
            [...new Set(failures.map((f) => `${f.reason}: ${f.message}`))].slice(-3).join(' | ');
          await waitFor(
            `5,000 acknowledged and 10 s of outage (${outageFailures()})`,
            () => ackedAtLeast(5_000) && performance.now() - killedAt >= 10_000,
            120_000,
          );
          const downMs = performance.now() - killedAt;
          cluster.startStopped();
          const rejoinMs = await waitFor(
            `node ${victim} registered again`,
            async () => (await admin.describeCluster().catch(() => ({ brokers: [] }))).brokers.length === 3,
            90_000,
          );
          releaseTail();
          await publishing;
          await broker.close();
          broker = undefined;

          const inSyncMs =
            rejoinMs +
            (await waitFor(
              'every partition back to 3 in sync',
              async () => (await partitions(admin, topic).catch(() => [])).every((p) => p.isr.length === 3),
              60_000,
            ));
          const { records, sequences } = await readAll(kafka, admin, topic);
          const { duplicates, outOfOrder, lost } = checkKeys(sequences);

          const byReason = new Map<string, number>();
          for (const failure of failures)
            byReason.set(failure.reason, (byReason.get(failure.reason) ?? 0) + 1);
          const slowest = Math.max(0, ...failures.map((failure) => failure.ms));
          process.stderr.write(
            `${driver} on a kafka cluster: ${acked} acknowledged, ${records} records in the topic: ${lost} lost, ` +
              `${duplicates} duplicates, ${outOfOrder} out of order. Node ${victim} (leader of partition 0) ` +
              `SIGKILLed after ${ackedAtKill} acks, down ${(downMs / 1000).toFixed(1)} s, registered again ` +
              `${(rejoinMs / 1000).toFixed(1)} s after its restart, all partitions 3 in sync after ` +
              `${(inSyncMs / 1000).toFixed(1)} s. ${failures.length} publish calls failed ` +
              `(${[...byReason].map(([reason, n]) => `${reason} ${n}`).join(', ') || 'none'}), ` +
              `slowest in ${Math.round(slowest)} ms against a budget of ${BUDGET_MS} ms\n`,
          );

          assert.equal(acked, KEYS * PER_KEY);
          assert.equal(lost, 0, 'no acknowledged message is lost');
          assert.equal(outOfOrder, 0, "each key's messages are in publish order");
          assert.equal(
            records,
            KEYS * PER_KEY + duplicates,
            'every record is a message or a counted duplicate',
          );
          assert.ok(failures.length > 0, 'the outage made publishes fail (else nothing was tested)');
          assert.ok(
            slowest <= BUDGET_MS + SETTLE_SLACK_MS,
            `a failed publish settled in ${Math.round(slowest)} ms, past its ${BUDGET_MS} ms budget`,
          );
        } finally {
          stopPublishing();
          await broker?.close();
          try {
            cluster.startStopped();
          } catch {
            // no supervisor: nothing to start again
          }
          await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
          await admin.disconnect();
        }
      },
    );
});
