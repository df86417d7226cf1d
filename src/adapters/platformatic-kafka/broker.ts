import type { ConnectionOptions } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  ListOffsetTimestamps,
  Producer,
  stringSerializer,
  type MessageToProduce,
  type ProducerOptions,
} from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type {
  Broker,
  BrokerAdapter,
  BrokerRecord,
  ConsumerLoop,
  ConsumerLoopOptions,
  PartitionLag,
} from '../../ports/broker.ts';
import type { HealthResult } from '../../ports/component.ts';
import { guardBroker } from '../../runtime/broker/guarded-broker.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { CredentialRenewal } from '../../runtime/guard/credential-renewal.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { serverOfHostPort } from '../../runtime/telemetry/server-info.ts';
import { kafkaSecurity } from '../shared/kafka-options.ts';
import { closedConnectionDiagnosis } from '../shared/kafka-transport.ts';
import { checkKafkaTopic } from '../shared/kafka-protocol-errors.ts';
import { SendBatcher } from '../shared/send-batcher.ts';
import { partitionLag } from '../shared/kafka-lag.ts';
import { TopicsOnFirstUse } from '../shared/kafka-topics.ts';
import { PlatformaticConsumerLoop } from './consumer-loop.ts';
import { classifyPlatformaticKafkaError } from './errors.ts';
import { platformaticKafkaBrokerOptionsSchema, type PlatformaticKafkaBrokerOptions } from './options.ts';
import { javaCompatiblePartitioner } from './partitioner.ts';
import { platformaticLogin } from './sasl-login.ts';

type Settings = z.output<typeof platformaticKafkaBrokerOptionsSchema>;
type OutgoingRecord = MessageToProduce<string, Buffer, string, string>;

/** What every client of one broker shares: where the cluster is and how to reach it. */
export interface ClientOptions {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  requestTimeout: number;
  timeout: number;
  tls?: ConnectionOptions;
  sasl?: ReturnType<typeof platformaticLogin>;
}

function clientOptions(settings: Settings, renewal: RenewalHooks): ClientOptions {
  const { tls, sasl } = kafkaSecurity(settings);
  return {
    clientId: settings.clientId,
    bootstrapBrokers: settings.brokers,
    connectTimeout: settings.connectionTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    timeout: settings.requestTimeoutMs,
    ...(tls === undefined ? {} : { tls }),
    ...(sasl === undefined ? {} : { sasl: platformaticLogin(sasl, renewal.refused, renewal.renewing) }),
  };
}

/** How the clients' logins reach the adapter's credential renewal. */
interface RenewalHooks {
  readonly refused: (error: unknown) => void;
  readonly renewing: () => Promise<unknown> | undefined;
}

// How long a topic just created may take to show a leader on every partition.
const leadersWaitMs = 10_000;

/**
 * Broker over Apache Kafka with @platformatic/kafka: the idempotent producer (the client retries
 * a failed request with its sequence numbers, and takes a new producer id after a send failed, so
 * a landed request cannot wedge it), one request in flight, Java-compatible partitioning.
 */
class PlatformaticKafkaAdapter implements BrokerAdapter {
  readonly system = 'kafka';
  readonly maxRecordBytes: number;
  readonly producer: Producer<string, Buffer, string, string>;
  readonly #settings: Settings;
  readonly #logger: Logger;
  readonly #client: ClientOptions;
  readonly #admin: Admin;
  // Its own client that does not retry, so a probe answers now or fails now.
  readonly #probeAdmin: Admin;
  readonly #topics: TopicsOnFirstUse;
  readonly #sends: SendBatcher<OutgoingRecord>;
  /** The SASL password's renewal when it is a rotating secret, for guard() too. */
  readonly credentialRenewal: CredentialRenewal | undefined;
  // A renewal after a refused login: the next logins wait for it.
  #renewing: Promise<boolean> | undefined = undefined;
  // A plaintext client's closed connection, asked once whether the broker speaks TLS.
  readonly #diagnose: (error: unknown) => Promise<unknown>;

  constructor(settings: Settings, logger: Logger) {
    this.#settings = settings;
    this.#logger = logger;
    this.maxRecordBytes = settings.maxMessageBytes;
    const renewal = (this.credentialRenewal = CredentialRenewal.of([settings.sasl?.password], logger));
    this.#client = clientOptions(settings, {
      // The client retries a refused login itself (and tells a caller only its timeout): the
      // password is read again from here, and the next login waits for it.
      refused: () => {
        this.#renewing ??= renewal?.renew().finally(() => {
          this.#renewing = undefined;
        });
      },
      renewing: () => this.#renewing,
    });
    const producerOptions: ProducerOptions<string, Buffer, string, string> = {
      ...this.#client,
      idempotent: true,
      // The client makes 0 or 1 retries of an idempotent producer endless; 2, 100 ms apart, is
      // enough for a moved leader, and the guard's budget does the rest.
      retries: 2,
      retryDelay: 100,
      autocreateTopics: false,
      partitioner: javaCompatiblePartitioner(),
      serializers: { key: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
    };
    this.producer = new Producer(producerOptions);
    this.#admin = new Admin({ ...this.#client, retries: 5, retryDelay: 200 });
    // Topics are made through this admin, once each.
    this.#topics = new TopicsOnFirstUse(
      settings.topics.autoCreate ? (topic) => this.#createTopic(topic) : undefined,
    );
    this.#probeAdmin = new Admin({ ...this.#client, retries: 0 });
    this.#diagnose = closedConnectionDiagnosis(settings.brokers, this.#client.tls);
    // One request for every topic gathered: the client splits it per leader.
    this.#sends = new SendBatcher(
      (topics) =>
        this.producer
          .send({ messages: [...topics.values()].flat() })
          .catch(async (error: unknown) => Promise.reject(await this.#diagnose(error))),
      settings,
    );
  }

  checkTopic = checkKafkaTopic;

  /** Creates the topic once per process when `topics.autoCreate`, and waits for its leaders. */
  ensureTopic(topic: string): Promise<void> {
    return this.#topics.ensure(topic);
  }

  async #createTopic(topic: string): Promise<void> {
    const { partitions, replicationFactor } = this.#settings.topics;
    await this.#admin
      .createTopics({ topics: [topic], partitions, replicas: replicationFactor })
      .catch((error: unknown) => {
        if (classifyPlatformaticKafkaError(error).reason !== 'conflict') throw error;
      });
    await this.#waitForLeaders(topic);
  }

  // A created topic has no leaders for a moment: a consumer joining then is assigned nothing.
  async #waitForLeaders(topic: string): Promise<void> {
    const started = Date.now();
    for (;;) {
      const metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
      const partitions = metadata.topics.get(topic)?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
      if (Date.now() - started > leadersWaitMs) return;
      await sleep(100);
    }
  }

  publish(topic: string, records: readonly BrokerRecord[]): Promise<void> {
    return this.#topics.send(topic, () => this.#enqueue(topic, records));
  }

  #enqueue(topic: string, records: readonly BrokerRecord[]): Promise<void> {
    return this.#sends.enqueue(topic, records, (record): OutgoingRecord => {
      const value = Buffer.isBuffer(record.value)
        ? record.value
        : Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength);
      const message: OutgoingRecord = { topic, value, headers: record.headers };
      if (record.key !== undefined) message.key = record.key;
      return message;
    });
  }

  consumer(options: ConsumerLoopOptions): ConsumerLoop {
    return new PlatformaticConsumerLoop(options, {
      client: this.#client,
      fetchMaxWaitMs: this.#settings.fetchMaxWaitMs,
      ensureTopic: (topic) => this.ensureTopic(topic),
      logger: this.#logger,
    });
  }

  // A metadata request that skips the client's cache, on a client that does not retry.
  async probe(): Promise<HealthResult> {
    const metadata = await this.#probeAdmin
      .metadata({ topics: [], forceUpdate: true })
      .catch(async (error: unknown) => Promise.reject(await this.#diagnose(error)));
    if (metadata.brokers.size === 0) return { status: 'down', error: 'the cluster reports no brokers' };
    return { status: 'up', details: { brokers: metadata.brokers.size } };
  }

  // High watermark minus the group's committed offset (the log start when it committed none).
  async lag(topic: string, group: string): Promise<PartitionLag[]> {
    const metadata = await this.#admin.metadata({ topics: [topic] });
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    const indexes = Array.from({ length: count }, (_, i) => i);
    const at = (timestamp: bigint): Promise<Map<number, bigint>> =>
      this.#admin
        .listOffsets({
          topics: [
            { name: topic, partitions: indexes.map((partitionIndex) => ({ partitionIndex, timestamp })) },
          ],
        })
        .then((topics) => new Map(topics[0]?.partitions.map((p) => [p.partitionIndex, p.offset])));
    const [ends, starts, [offsets]] = await Promise.all([
      at(ListOffsetTimestamps.LATEST),
      at(ListOffsetTimestamps.EARLIEST),
      this.#admin.listConsumerGroupOffsets({
        groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: indexes }] }],
      }),
    ]);
    const committed = new Map(
      offsets?.topics
        .find((t) => t.name === topic)
        ?.partitions.map((p) => [p.partitionIndex, p.committedOffset]),
    );
    return indexes.map((partition) =>
      partitionLag(
        partition,
        ends.get(partition) ?? 0n,
        starts.get(partition) ?? 0n,
        committed.get(partition),
      ),
    );
  }

  classifyError = classifyPlatformaticKafkaError;

  async close(): Promise<void> {
    this.#sends.flush();
    await Promise.all(
      [this.producer.close(true), this.#admin.close(), this.#probeAdmin.close()].map((closing) =>
        closing.catch(() => undefined),
      ),
    );
  }
}

export interface PlatformaticKafkaBroker extends Broker {
  /** The @platformatic/kafka producer, for what the port does not cover. */
  producer(): Producer<string, Buffer, string, string>;
}

export function createPlatformaticKafkaBroker(
  options: PlatformaticKafkaBrokerOptions,
  runtime: Runtime = defaultRuntime(),
): PlatformaticKafkaBroker {
  const settings = parseOptions(
    platformaticKafkaBrokerOptionsSchema,
    options,
    'platformatic-kafka broker options',
  );
  const logger = runtime.logger.child({ component: settings.id ?? 'broker:platformatic-kafka' });
  const adapter = new PlatformaticKafkaAdapter(settings, logger);
  const server = serverOfHostPort(settings.brokers[0]);
  const { credentialRenewal } = adapter;
  return extendPort(guardBroker(adapter, { ...settings, server, credentialRenewal }, runtime), {
    producer: () => adapter.producer,
  });
}
