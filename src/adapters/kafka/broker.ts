import kafkajs, {
  type Admin,
  type Consumer,
  type Kafka,
  type KafkaConfig,
  type LogEntry,
  type Message,
  type Producer,
} from 'kafkajs';
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
import { parseOptions } from '../../runtime/options/validate.ts';
import { kafkaBrokerOptionsSchema, type KafkaBrokerOptions } from './options.ts';
import { guardBroker } from '../../runtime/broker/guarded-broker.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { CredentialRenewal } from '../../runtime/guard/credential-renewal.ts';
import { serverOfHostPort } from '../../runtime/telemetry/server-info.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { kafkaSecurity } from '../shared/kafka-options.ts';
import { closedConnectionDiagnosis } from '../shared/kafka-transport.ts';
import { checkKafkaTopic } from '../shared/kafka-protocol-errors.ts';
import { SendBatcher } from '../shared/send-batcher.ts';
import { partitionLag } from '../shared/kafka-lag.ts';
import { TopicsOnFirstUse } from '../shared/kafka-topics.ts';
import { classifyKafkaError } from './errors.ts';
import { positionAssigned } from './positions.ts';
import { KafkaRecord } from './record.ts';
import { kafkajsLogin } from './sasl-login.ts';
import { stopIdleRequestChecks } from './request-queue-checks.ts';
import { warnIfUnverified } from '../shared/tls.ts';

// kafkajs is CommonJS; its default export is the one Node's ESM loader sees whole.
const { Kafka: KafkaClient, logLevel } = kafkajs;
stopIdleRequestChecks();

type Settings = z.output<typeof kafkaBrokerOptionsSchema>;

// kafkajs's own default, stated for the client whose connection retries are off.
const operationRetries = { retries: 5 };
// One retry in place, ~100 ms on: kafkajs refreshes metadata first, all that a moved leader needs.
// Its five retries (~9 s) outlived every deadline when a cluster lost a leader: the client stays
// connected to the other brokers and retries the refused one until Kafka fences it (`timeout`).
const sendRetries = { retries: 1, initialRetryTime: 100 };

/** A kafkajs client connected on first use, and again after a connect that failed. */
class LazyClient<T extends Producer | Admin> {
  readonly #create: () => T;
  readonly #diagnose: (error: unknown) => Promise<unknown>;
  // One client for good: a failed connect moved its seed to the next broker of the list, where a
  // new client would start again at the first one, and a lost first broker would fail every try.
  #client: T | undefined = undefined;
  #connecting: Promise<T> | undefined = undefined;

  constructor(create: () => T, diagnose: (error: unknown) => Promise<unknown>) {
    this.#create = create;
    this.#diagnose = diagnose;
  }

  get(): Promise<T> {
    this.#connecting ??= (async () => {
      const client = (this.#client ??= this.#create());
      await client.connect();
      return client;
    })().catch(async (error: unknown) => {
      this.#connecting = undefined;
      throw await this.#diagnose(error);
    });
    return this.#connecting;
  }

  async disconnect(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#connecting = undefined;
    await client?.disconnect().catch(() => undefined);
  }
}

/**
 * Broker over Apache Kafka with kafkajs. kafkajs sends one request per `send` call, so
 * publishes made in one turn of the event loop, or while a request is in flight, share one
 * (SendBatcher).
 */
class KafkaAdapter implements BrokerAdapter {
  readonly system = 'kafka';
  readonly maxRecordBytes: number;
  readonly kafka: Kafka;
  readonly #settings: Settings;
  readonly #logger: Logger;
  readonly #topics: TopicsOnFirstUse;
  readonly #producer: LazyClient<Producer>;
  readonly #admin: LazyClient<Admin>;
  // Its own client that does not retry, so a probe answers now or fails now.
  readonly #probeAdmin: LazyClient<Admin>;
  readonly #sends: SendBatcher<Message>;
  /** The SASL password's renewal when it is a rotating secret, for guard() too. */
  readonly credentialRenewal: CredentialRenewal | undefined;
  // A renewal after a login refused on reconnecting: the next send waits for it.
  #renewing: Promise<boolean> | undefined = undefined;

  constructor(settings: Settings, logger: Logger) {
    this.#settings = settings;
    this.#logger = logger;
    this.maxRecordBytes = settings.maxMessageBytes;
    this.credentialRenewal = CredentialRenewal.of([settings.sasl?.password], logger);
    const config: KafkaConfig = {
      clientId: settings.clientId,
      brokers: settings.brokers,
      ...kafkajsSecurity(settings, (error) => this.#refused(error)),
      connectionTimeout: settings.connectionTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      // kafkajs logs every failed reconnect as an error; berth logs transitions, so its lines go to debug.
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) =>
        logger.debug({ kafkajs: entry.namespace, ...entry.log }, entry.log.message),
    };
    // Consumers keep kafkajs's retries: a fresh cluster has no group coordinator for seconds.
    this.kafka = new KafkaClient(config);
    // The producer and admins do not retry connections: a refused one fails the attempt at once
    // (guard retries it within the call's budget), not after kafkajs's ~9 s of reconnects, which
    // had outlived every deadline as a `timeout`.
    const kafka = new KafkaClient({ ...config, retry: { retries: 0 } });
    const tls = typeof config.ssl === 'object' ? config.ssl : config.ssl ? {} : undefined;
    const diagnose = closedConnectionDiagnosis(settings.brokers, tls, true);
    this.#producer = new LazyClient(
      () =>
        kafka.producer({
          // Not idempotent: kafkajs reuses a failed request's sequence numbers, so after a broker loss its
          // producer was refused (OUT_OF_ORDER_SEQUENCE_NUMBER) for good. One request at a time keeps order.
          idempotent: false,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
          retry: sendRetries,
        }),
      diagnose,
    );
    this.#admin = new LazyClient(() => kafka.admin({ retry: operationRetries }), diagnose);
    // Topics are made through this admin, once each.
    this.#topics = new TopicsOnFirstUse(
      settings.topics.autoCreate ? (topic) => this.#createTopic(topic) : undefined,
    );
    this.#probeAdmin = new LazyClient(() => kafka.admin({ retry: { retries: 0 } }), diagnose);
    this.#sends = new SendBatcher(async (topics) => {
      const topicMessages = [...topics].map(([topic, messages]) => ({ topic, messages }));
      if (this.#renewing !== undefined) await this.#renewing;
      const producer = await this.#producer.get();
      await producer.sendBatch({ topicMessages, acks: -1 });
    }, settings);
  }

  checkTopic = checkKafkaTopic;

  // kafkajs tells a caller only "Closed connection" after a login refused on reconnecting: the
  // password is read again from here, and sends wait for it.
  #refused(error: unknown): void {
    const renewal = this.credentialRenewal;
    if (renewal === undefined || classifyKafkaError(error).reason !== 'unauthorized') return;
    this.#renewing ??= renewal.renew().finally(() => {
      this.#renewing = undefined;
    });
  }

  /** Creates the topic once per process when `topics.autoCreate`; otherwise the broker decides. */
  ensureTopic(topic: string): Promise<void> {
    return this.#topics.ensure(topic);
  }

  async #createTopic(topic: string): Promise<void> {
    const admin = await this.#admin.get();
    const { partitions, replicationFactor } = this.#settings.topics;
    await admin
      .createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor }],
        waitForLeaders: true,
      })
      .catch((error: unknown) => {
        if (classifyKafkaError(error).reason !== 'conflict') throw error;
      });
  }

  publish(topic: string, records: readonly BrokerRecord[]): Promise<void> {
    return this.#topics.send(topic, () => this.#enqueue(topic, records));
  }

  #enqueue(topic: string, records: readonly BrokerRecord[]): Promise<void> {
    return this.#sends.enqueue(topic, records, (record) => {
      // A record whose value is a Buffer (all that berth encodes) is a kafkajs message as it is.
      if (Buffer.isBuffer(record.value)) return record as Message;
      const value = Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength);
      return { key: record.key ?? null, value, headers: record.headers };
    });
  }

  consumer(options: ConsumerLoopOptions): ConsumerLoop {
    let consumer: Consumer | undefined;
    let stopping = false;
    // Ends start()'s wait for the first join: with no error on a join or on stop(), else with the crash.
    let endJoinWait: (error?: Error) => void = () => undefined;
    const logger = this.#logger;
    return {
      start: async () => {
        await this.ensureTopic(options.topic);
        if (stopping) return;
        const created = this.kafka.consumer({
          groupId: options.group,
          allowAutoTopicCreation: false,
          sessionTimeout: 10_000,
          heartbeatInterval: 1_000,
          // stop() waits for the fetch in flight: the broker holds an idle one this long.
          maxWaitTimeInMs: this.#settings.fetchMaxWaitMs,
          // Restarts after retriable failures are kafkajs's own; the rest reach the supervisor.
          retry: { ...operationRetries, restartOnFailure: () => Promise.resolve(!stopping) },
        });
        consumer = created;
        let hasJoined = false;
        const joined = new Promise<void>((resolve, reject) => {
          endJoinWait = (error) => (error === undefined ? resolve() : reject(error));
        });
        const markJoined = (): void => {
          hasJoined = true;
          endJoinWait();
        };
        let joins = 0;
        created.on(created.events.GROUP_JOIN, (event) => {
          const join = ++joins;
          // From the beginning, a partition without a committed offset starts at its log start:
          // nothing published after the join can be missed.
          if (options.fromBeginning) return markJoined();
          // kafkajs would resolve `latest` at its first fetch, after `ready`: a message published
          // in between was skipped. Paused here, before that fetch (events are emitted synchronously).
          created.pause([{ topic: options.topic }]);
          const assigned = event.payload.memberAssignment[options.topic] ?? [];
          const current = (): boolean => join === joins && !stopping;
          const { topic, group } = options;
          const positioned = this.#admin
            .get()
            .then((a) => positionAssigned(a, created, topic, group, assigned, current));
          positioned.then(
            () => {
              if (!current()) return;
              created.resume([{ topic: options.topic }]);
              markJoined();
            },
            (error: unknown) => {
              // A later join positions its own assignment.
              if (!current()) return;
              const failure = error instanceof Error ? error : new Error(String(error));
              if (hasJoined) options.onCrash(failure);
              else endJoinWait(failure);
            },
          );
        });
        created.on(created.events.CRASH, (event) => {
          if (stopping) return;
          if (event.payload.restart)
            return logger.warn({ err: event.payload.error }, 'Kafka consumer restarting');
          // Before the first join the start fails with it; afterwards the supervisor decides.
          if (hasJoined) options.onCrash(event.payload.error);
          else endJoinWait(event.payload.error);
        });
        await created.connect();
        await created.subscribe({ topic: options.topic, fromBeginning: options.fromBeginning });
        await created.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: this.#settings.topics.partitions,
          eachBatch: async (payload) => {
            const batch = payload.batch;
            if (!payload.isRunning() || payload.isStale() || batch.messages.length === 0) return;
            const records = batch.messages.map((message) => new KafkaRecord(message, batch.partition));
            const heartbeats = setInterval(() => void payload.heartbeat().catch(() => undefined), 1_000);
            let handled: number;
            try {
              handled = await options.process(records);
            } finally {
              clearInterval(heartbeats);
            }
            if (handled === 0) return;
            // The batch's last offset may lie past its last message (control records); a part stops at its own.
            const last =
              handled === records.length ? batch.lastOffset() : batch.messages[handled - 1]!.offset;
            payload.resolveOffset(last);
            // Committed only after the handlers succeeded or dead-lettered. Through the batch's own
            // commit: consumer.commitOffsets does nothing once stop() began, so a batch finishing
            // during close() would be delivered again.
            const offset = (BigInt(last) + 1n).toString();
            await payload.commitOffsetsIfNecessary({
              topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset }] }],
            });
          },
        });
        await joined;
      },
      stop: async () => {
        stopping = true;
        endJoinWait();
        await consumer?.disconnect();
      },
    };
  }

  // A metadata request on a client of its own that does not retry: it answers now or fails now.
  async probe(): Promise<HealthResult> {
    const admin = await this.#probeAdmin.get();
    // kafkajs takes no AbortSignal; guard's health deadline abandons a call that does not answer.
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) return { status: 'down', error: 'the cluster reports no brokers' };
    return { status: 'up', details: { brokers: cluster.brokers.length } };
  }

  // High watermark minus the group's committed offset (the log start when it committed none).
  async lag(topic: string, group: string): Promise<PartitionLag[]> {
    const admin = await this.#admin.get();
    const [ends, [committed]] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId: group, topics: [topic] }),
    ]);
    const offsets = new Map(committed?.partitions.map((p) => [p.partition, p.offset]));
    return ends.map(({ partition, high, low }) => {
      const offset = offsets.get(partition);
      return partitionLag(
        partition,
        BigInt(high),
        BigInt(low),
        offset === undefined ? undefined : BigInt(offset),
      );
    });
  }

  classifyError = classifyKafkaError;

  async close(): Promise<void> {
    this.#sends.flush();
    await Promise.all([this.#producer.disconnect(), this.#admin.disconnect(), this.#probeAdmin.disconnect()]);
  }
}

// kafkajs takes node's TLS options as `ssl`, and the SASL login read at each login.
function kafkajsSecurity(
  settings: Settings,
  onRefused: (error: unknown) => void,
): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const { tls, sasl } = kafkaSecurity(settings);
  return { ssl: tls ?? false, ...(sasl === undefined ? {} : { sasl: kafkajsLogin(sasl, onRefused) }) };
}

export interface KafkaBroker extends Broker {
  /** The kafkajs client, for what the port does not cover. */
  client(): Kafka;
}

export function createKafkaBroker(
  options: KafkaBrokerOptions,
  runtime: Runtime = defaultRuntime(),
): KafkaBroker {
  const settings = parseOptions(kafkaBrokerOptionsSchema, options, 'kafka broker options');
  const logger = runtime.logger.child({ component: settings.id ?? 'broker:kafka' });
  warnIfUnverified(settings.tls, logger);
  const adapter = new KafkaAdapter(settings, logger);
  const server = serverOfHostPort(settings.brokers[0]);
  const { credentialRenewal } = adapter;
  return extendPort(guardBroker(adapter, { ...settings, server, credentialRenewal }, runtime), {
    client: () => adapter.kafka,
  });
}
