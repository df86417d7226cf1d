import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { RESP_TYPES } from 'redis';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type {
  Broker,
  BrokerAdapter,
  BrokerRecord,
  ConsumerLoop,
  ConsumerLoopOptions,
  DeliveredRecord,
  PartitionLag,
} from '../../ports/broker.ts';
import type { HealthResult, OperationContext } from '../../ports/component.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { redisBrokerOptionsSchema, type RedisBrokerOptions } from './options.ts';
import { guardBroker } from '../../runtime/broker/guarded-broker.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { serverOfRedis } from '../../runtime/telemetry/server-info.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { RedisConnection, type RedisClient } from './connection.ts';

const batchSize = 100;
const blockMs = 1_000;

interface StreamEntry {
  id: Buffer;
  message: Record<string, Buffer>;
}

type Settings = z.output<typeof redisBrokerOptionsSchema>;

/** Broker over Redis Streams: one stream per topic, consumer groups, XACK after the handler succeeded. */
class RedisStreamsAdapter implements BrokerAdapter {
  readonly system = 'redis';
  readonly maxRecordBytes: number;
  readonly #connection: RedisConnection;
  readonly #settings: Settings;
  readonly #logger: Logger;

  constructor(connection: RedisConnection, settings: Settings, logger: Logger) {
    this.#connection = connection;
    this.#settings = settings;
    this.#logger = logger;
    this.maxRecordBytes = settings.maxMessageBytes;
  }

  checkTopic(topic: string): string | undefined {
    return /^[^\s]{1,512}$/.test(topic) ? undefined : 'must be 1 to 512 characters without whitespace';
  }

  // On a cluster the topic is a hash tag: a stream and any key that goes with it share one slot.
  #stream(topic: string): string {
    if (this.#connection.cluster !== undefined) return `${this.#settings.streamPrefix}{${topic}}`;
    return this.#settings.streamPrefix + topic;
  }

  async publish(topic: string, records: readonly BrokerRecord[], ctx: OperationContext): Promise<void> {
    await this.#connection.firstConnection(ctx);
    const client = this.#connection.client;
    const trim = this.#settings.maxStreamLength;
    const options =
      trim === undefined
        ? undefined
        : { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: trim } as const };
    // One connection sends commands in call order, so a key's records stay in order.
    await Promise.all(
      records.map((record) => {
        const fields: Record<string, Buffer | string> = {
          v: Buffer.from(record.value),
          h: JSON.stringify(record.headers),
        };
        if (record.key !== undefined) fields.k = record.key;
        return client.xAdd(this.#stream(topic), '*', fields, options);
      }),
    );
  }

  consumer(options: ConsumerLoopOptions): ConsumerLoop {
    const stream = this.#stream(options.topic);
    const consumerName = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    const settings = this.#settings;
    const logger = this.#logger;
    let reader: RedisClient | undefined;
    let running = false;
    let processing = false;
    let loop: Promise<void> | undefined;

    const toRecords = (entries: readonly (StreamEntry | null)[]): DeliveredRecord[] =>
      entries
        .filter((entry): entry is StreamEntry => entry !== null)
        .map((entry) => ({
          position: entry.id.toString(),
          key: entry.message.k?.toString(),
          value: entry.message.v ?? Buffer.alloc(0),
          headers: parseHeaders(entry.message.h),
        }));

    const handle = async (client: RedisClient, records: DeliveredRecord[]): Promise<void> => {
      processing = true;
      try {
        const handled = await options.process(records);
        // Entries not handled (the subscription is closing) stay pending, to be claimed again.
        if (handled > 0)
          await client.xAck(
            stream,
            options.group,
            records.slice(0, handled).map((record) => record.position),
          );
      } finally {
        processing = false;
      }
    };

    const run = async (client: RedisClient): Promise<void> => {
      const binary = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
      // Our own unacknowledged entries first (after a failed batch or a restart), then new ones.
      let ownPending = true;
      let lastClaim = 0;
      while (running) {
        try {
          if (Date.now() - lastClaim > settings.claimIdleMs / 2) {
            lastClaim = Date.now();
            // Entries another consumer read and never acknowledged: it died, so take them over.
            const claimed = await binary.xAutoClaim(
              stream,
              options.group,
              consumerName,
              settings.claimIdleMs,
              '0-0',
              {
                COUNT: batchSize,
              },
            );
            const records = toRecords(claimed.messages);
            if (records.length > 0) {
              logger.info({ stream, count: records.length }, 'reclaimed entries from an idle consumer');
              await handle(client, records);
              continue;
            }
          }
          const reply = await binary.xReadGroup(
            options.group,
            consumerName,
            { key: stream, id: ownPending ? '0' : '>' },
            ownPending ? { COUNT: batchSize } : { COUNT: batchSize, BLOCK: blockMs },
          );
          const entries = (reply as unknown as { messages: StreamEntry[] }[] | null)?.[0]?.messages ?? [];
          if (entries.length === 0) {
            ownPending = false;
            continue;
          }
          try {
            await handle(client, toRecords(entries));
          } catch (error) {
            if (!running) break;
            logger.debug({ err: error, stream }, 'batch not acknowledged, redelivering');
            ownPending = true;
            await sleep(settings.redeliveryDelayMs);
          }
        } catch (error) {
          if (!running) break;
          const reason = this.classifyError(error).reason;
          if (reason !== 'unavailable' && reason !== 'timeout') throw error;
          // An outage: keep trying; the supervisor is for failures that retrying cannot fix.
          await sleep(settings.redeliveryDelayMs * 5);
        }
      }
    };

    return {
      start: async () => {
        const client = await this.#connection.openReader((error: Error) =>
          logger.debug({ err: error, stream }, 'stream reader connection error'),
        );
        try {
          await client.xGroupCreate(stream, options.group, options.fromBeginning ? '0' : '$', {
            MKSTREAM: true,
          });
        } catch (error) {
          // BUSYGROUP: the group exists, and keeps its position.
          if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) {
            client.destroy();
            throw error;
          }
        }
        reader = client;
        running = true;
        loop = run(client).catch((error: unknown) => {
          if (running) options.onCrash(error);
        });
      },
      stop: async () => {
        running = false;
        // A blocked read holds nothing: drop the connection now; a batch in progress gets to finish and acknowledge.
        if (!processing) reader?.destroy();
        await loop;
        reader?.destroy();
      },
    };
  }

  probe(signal: AbortSignal): Promise<HealthResult> {
    return this.#connection.probe(signal);
  }

  // XINFO GROUPS: entries the group has not read (`lag`, Redis 7) plus those read but not acknowledged.
  async lag(topic: string, group: string): Promise<PartitionLag[]> {
    await this.#connection.firstConnection();
    const groups = await this.#connection.client.xInfoGroups(this.#stream(topic));
    const found = groups.find((info) => String(info.name) === group);
    if (found === undefined || typeof found.lag !== 'number') return [];
    return [{ partition: '0', lag: found.lag + Number(found.pending) }];
  }

  classifyError = (error: unknown): ErrorClassification => this.#connection.classify(error);

  close(): Promise<void> {
    return this.#connection.close();
  }
}

function parseHeaders(raw: Buffer | undefined): Record<string, string> {
  if (raw === undefined) return {};
  try {
    const parsed = JSON.parse(raw.toString()) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  } catch {
    return {};
  }
}

export interface RedisBroker extends Broker {
  /** The node-redis client used for publishing, for commands the port does not cover. */
  client(): RedisClient;
}

export function createRedisBroker(
  options: RedisBrokerOptions,
  runtime: Runtime = defaultRuntime(),
): RedisBroker {
  const settings = parseOptions(redisBrokerOptionsSchema, options, 'redis broker options');
  const logger = runtime.logger.child({ component: settings.id ?? 'broker:redis' });
  const connection = new RedisConnection(settings, logger);
  const adapter = new RedisStreamsAdapter(connection, settings, logger);
  const server = serverOfRedis(settings);
  const broker = guardBroker(
    adapter,
    { ...settings, server, credentialRenewal: connection.credentialRenewal },
    runtime,
  );
  return extendPort(broker, { client: () => connection.client });
}
