// The Kafka broker port on kafkajs and on @platformatic/kafka vs each raw client, interleaved in one process. Prints `ratio <name> <port/raw>` lines.
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { Registry } from 'prom-client';
import { createKafkaBroker } from '../src/adapters/kafka/index.ts';
import { createPlatformaticKafkaBroker } from '../src/adapters/platformatic-kafka/index.ts';
import type { Broker } from '../src/ports/index.ts';
import { createLogger, createRuntime } from '../src/runtime/index.ts';
import { ensureService } from '../test/servers/services.ts';
import { consumeRawPlatformatic, decoded, RawPlatformaticProducer } from './platformatic-kafka-raw.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 11);
// A consume round is one full read of the topic per side: more of them, as each varies more.
const consumeRounds = Number(process.env.BENCH_CONSUME_ROUNDS ?? 18);
// `publish` or `consume` runs that half alone.
const only = process.env.BENCH_ONLY;
// Long enough per round that this machine's swings (a shared VM) average out within it.
const publishCount = Number(process.env.BENCH_MESSAGES ?? 30_000);
// Raw per-message sends wait a round trip each: a few thousand say enough.
const sendCount = Math.max(500, Math.round(publishCount / 20));
// Large enough that prefetching during the group join does not decide the rate.
const consumeCount = Number(process.env.BENCH_CONSUME_MESSAGES ?? 200_000);
const concurrency = 64;

async function kafkaBrokers(): Promise<string[]> {
  const fromEnv = process.env.KAFKA_BROKERS ?? (await ensureService('kafka')).KAFKA_BROKERS;
  if (!fromEnv) throw new Error('no KAFKA_BROKERS');
  return fromEnv.split(',');
}

// Each timed run starts on a collected heap, so no side pays for the garbage of the one before.
const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function rate(total: number, workers: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < total) await op(next++);
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

const brokers = await kafkaBrokers();
const silent = createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry() });
const kafka = new kafkajs.Kafka({ clientId: 'bench-raw', brokers, logLevel: kafkajs.logLevel.NOTHING });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
await producer.connect();
const admin = kafka.admin();
await admin.connect();
const port = createKafkaBroker({ brokers, clientId: 'bench-port' }, silent);
const platformaticPort = createPlatformaticKafkaBroker(
  { brokers, clientId: 'bench-port-platformatic' },
  silent,
);
const platformaticProducer = new RawPlatformaticProducer(brokers);
const topic = `bench-${randomUUID().slice(0, 8)}`;
await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
const value = { id: 42, name: 'berth', tags: ['a', 'b'] };
// The raw side carries an id header as the port's messages do, so both send the same bytes.
const rawMessage = (i: number) => ({
  key: `k${i % 100}`,
  value: JSON.stringify(value),
  headers: { 'x-berth-id': randomUUID() },
});

/** Milliseconds to publish `count` messages through a port, one per call, 64 calls at a time. */
async function portPublish(count: number, through: Broker = port): Promise<number> {
  let next = 0;
  collectGarbage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await through.publish(topic, { key: `k${next++ % 100}`, value });
    }),
  );
  return performance.now() - started;
}

const rawPlatformaticPublish = (count: number): Promise<number> => {
  collectGarbage();
  return platformaticProducer.publish(topic, count, concurrency, rawMessage);
};

/** Milliseconds to publish `count` messages raw, one call at a time of 64 messages (what the port has in flight at c64). */
async function rawBatchedPublish(count: number): Promise<number> {
  collectGarbage();
  const started = performance.now();
  for (let i = 0; i < count; i += concurrency) {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: concurrency }, (_, j) => rawMessage(i + j)),
    });
  }
  return performance.now() - started;
}

const rawSendRate = (): Promise<number> =>
  rate(sendCount, concurrency, (i) => producer.send({ topic, acks: -1, messages: [rawMessage(i)] }));

// The ports and the raw batched sends take turns in slices a fraction of a second long, each
// slice in another order, so this machine's swings (a shared VM) fall on every side alike; a
// round compares their summed times.
async function benchPublish(): Promise<void> {
  const vsSend: number[] = [];
  const vsBatched: number[] = [];
  const platformaticVsKafkajs: number[] = [];
  const platformaticVsRaw: number[] = [];
  const sides = [
    (n: number) => portPublish(n),
    rawBatchedPublish,
    (n: number) => portPublish(n, platformaticPort),
    rawPlatformaticPublish,
  ];
  for (const side of sides) await side(2_000);
  const slices = 8;
  const slice = Math.max(concurrency, Math.round(publishCount / slices));
  for (let round = 0; round < rounds; round++) {
    const ms = [0, 0, 0, 0];
    for (let i = 0; i < slices; i++)
      for (let k = 0; k < sides.length; k++) {
        const which = (round + i + k) % sides.length;
        ms[which]! += await sides[which]!(slice);
      }
    const [portRate, batchedRate, platformaticRate, rawPlatformaticRate] = ms.map(
      (total) => (slices * slice) / (total / 1000),
    ) as [number, number, number, number];
    const sendRate = await rawSendRate();
    console.error(
      `publish round ${round}: port ${Math.round(portRate)}/s, raw send ${Math.round(sendRate)}/s, raw batched ${Math.round(batchedRate)}/s; ` +
        `port on @platformatic/kafka ${Math.round(platformaticRate)}/s, raw @platformatic/kafka batched ${Math.round(rawPlatformaticRate)}/s`,
    );
    vsSend.push(portRate / sendRate);
    vsBatched.push(portRate / batchedRate);
    platformaticVsKafkajs.push(platformaticRate / batchedRate);
    platformaticVsRaw.push(platformaticRate / rawPlatformaticRate);
  }
  console.log(`ratio broker.kafka.publish.c64.vs-send ${median(vsSend).toFixed(3)}`);
  console.log(`ratio broker.kafka.publish.c64.vs-batched-send ${median(vsBatched).toFixed(3)}`);
  console.log(
    `ratio broker.platformatic-kafka.publish.c64.vs-kafkajs-batched-send ${median(platformaticVsKafkajs).toFixed(3)}`,
  );
  console.log(
    `ratio broker.platformatic-kafka.publish.c64.vs-platformatic-batched-send ${median(platformaticVsRaw).toFixed(3)}`,
  );
}
if (only !== 'consume') await benchPublish();

if (only !== 'publish') await benchConsume();

// Consume: a topic filled once, read from the beginning by a fresh group each round; timed from the first message to the last.
async function benchConsume(): Promise<void> {
  const consumeTopic = `bench-consume-${randomUUID().slice(0, 8)}`;
  await admin.createTopics({ topics: [{ topic: consumeTopic, numPartitions: 3 }], waitForLeaders: true });
  for (let i = 0; i < consumeCount; i += 1_000) {
    await producer.send({
      topic: consumeTopic,
      messages: Array.from({ length: 1_000 }, (_, j) => rawMessage(i + j)),
    });
  }
  let sink = 0;
  const handle = (message: typeof value): Promise<void> => {
    sink += message.id;
    return Promise.resolve();
  };

  /**
   * Raw kafkajs consuming 200,000 messages. `decodeAll`: it decodes the key and the id header
   * along with the value, as the port does for every handler (a consumer that is at least once
   * needs the id to spot a redelivery); otherwise the value only.
   */
  async function consumeRaw(decodeAll: boolean): Promise<number> {
    collectGarbage();
    const consumer = kafka.consumer({ groupId: `raw-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: consumeTopic, fromBeginning: true });
    let seen = 0;
    let first = 0;
    const done = new Promise<number>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 3,
        eachBatch: async (payload) => {
          const batch = payload.batch;
          if (first === 0) first = performance.now();
          for (const message of batch.messages) {
            if (decodeAll) {
              sink += message.key!.toString().length;
              sink += message.headers!['x-berth-id']!.toString().length;
            }
            await handle(JSON.parse(message.value!.toString()) as typeof value);
          }
          seen += batch.messages.length;
          payload.resolveOffset(batch.lastOffset());
          await consumer.commitOffsets([
            {
              topic: batch.topic,
              partition: batch.partition,
              offset: (BigInt(batch.lastOffset()) + 1n).toString(),
            },
          ]);
          if (seen >= consumeCount) resolve(consumeCount / ((performance.now() - first) / 1000));
        },
      });
    });
    const result = await done;
    await consumer.disconnect();
    return result;
  }

  async function consumePort(concurrency: number, through: Broker = port): Promise<number> {
    collectGarbage();
    let seen = 0;
    let first = 0;
    let resolveDone: (rate: number) => void = () => undefined;
    const done = new Promise<number>((resolve) => (resolveDone = resolve));
    const subscription = through.subscribe<typeof value>(
      consumeTopic,
      (message) => {
        if (first === 0) first = performance.now();
        if (++seen === consumeCount) resolveDone(consumeCount / ((performance.now() - first) / 1000));
        return handle(message.value);
      },
      { group: `port-${randomUUID()}`, fromBeginning: true, concurrency },
    );
    const result = await done;
    await subscription.close();
    return result;
  }

  const consumeRawPlatformaticRate = (): Promise<number> => {
    collectGarbage();
    return consumeRawPlatformatic(brokers, consumeTopic, consumeCount, handle);
  };

  // Concurrency 1 is the port's default and does the raw loop's work in the raw loop's order;
  // 16 lanes add per-key chains across a batch. The five runs of a round start each at a place
  // of their own in turn: a run's place in a round must not favour it.
  for (const lanes of [1, 16]) {
    const vsFull: number[] = [];
    const vsValueOnly: number[] = [];
    const platformaticVsKafkajs: number[] = [];
    const platformaticVsRaw: number[] = [];
    for (let round = 0; round < consumeRounds; round++) {
      const runs = [
        () => consumePort(lanes),
        () => consumeRaw(true),
        () => consumeRaw(false),
        () => consumePort(lanes, platformaticPort),
        consumeRawPlatformaticRate,
      ];
      const rates: number[] = [];
      for (let k = 0; k < runs.length; k++) {
        const which = (round + k) % runs.length;
        rates[which] = await runs[which]!();
      }
      const [portRate, rawRate, valueOnly, platformaticRate, rawPlatformaticRate] = rates as [
        number,
        number,
        number,
        number,
        number,
      ];
      console.error(
        `consume c${lanes} round ${round}: port ${Math.round(portRate)}/s, raw eachBatch ${Math.round(rawRate)}/s (value only ${Math.round(valueOnly)}/s); ` +
          `port on @platformatic/kafka ${Math.round(platformaticRate)}/s, raw @platformatic/kafka ${Math.round(rawPlatformaticRate)}/s`,
      );
      vsFull.push(portRate / rawRate);
      vsValueOnly.push(portRate / valueOnly);
      platformaticVsKafkajs.push(platformaticRate / rawRate);
      platformaticVsRaw.push(platformaticRate / rawPlatformaticRate);
    }
    console.log(`ratio broker.kafka.consume.c${lanes}.vs-eachBatch ${median(vsFull).toFixed(3)}`);
    console.log(
      `ratio broker.kafka.consume.c${lanes}.vs-eachBatch-value-only ${median(vsValueOnly).toFixed(3)}`,
    );
    console.log(
      `ratio broker.platformatic-kafka.consume.c${lanes}.vs-kafkajs-eachBatch ${median(platformaticVsKafkajs).toFixed(3)}`,
    );
    console.log(
      `ratio broker.platformatic-kafka.consume.c${lanes}.vs-platformatic-raw ${median(platformaticVsRaw).toFixed(3)}`,
    );
  }
  if (sink === 0 || (only !== 'publish' && decoded.chars === 0)) console.error('nothing consumed');
}

await port.close();
await platformaticPort.close();
await platformaticProducer.close();
await producer.disconnect();
await admin.disconnect();
