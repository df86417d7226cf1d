import {
  Binary,
  type MongoClient,
  type ChangeStream,
  type ChangeStreamInsertDocument,
  type Document,
  type ResumeToken,
  type Timestamp,
} from 'mongodb';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type {
  Broker,
  BrokerAdapter,
  BrokerRecord,
  ConsumerLoop,
  ConsumerLoopOptions,
  DeliveredRecord,
} from '../../ports/broker.ts';
import type { HealthResult } from '../../ports/component.ts';
import { InfraError } from '../../ports/errors.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { mongoBrokerOptionsSchema, type MongoBrokerOptions } from './options.ts';
import { guardBroker } from '../../runtime/broker/guarded-broker.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { serverOfUrl } from '../../runtime/telemetry/server-info.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { MongoConnection } from './connection.ts';
import { classifyMongoError } from './errors.ts';
import { warnIfUnverified } from '../shared/tls.ts';

type Settings = z.output<typeof mongoBrokerOptionsSchema>;

const batchSize = 100;
// MongoDB's code for a resume token that fell off the oplog.
const changeStreamHistoryLost = 286;

interface MessageDocument extends Document {
  topic: string;
  key?: string;
  value: Binary;
  headers: Record<string, string>;
  publishedAt: Date;
}

interface PositionDocument extends Document {
  _id: string;
  token: ResumeToken;
}

/**
 * Broker over one MongoDB collection, for applications that run MongoDB and no broker: publish
 * inserts a document, a subscription watches inserts of its topic through a change stream, and
 * a group's resume token is saved only after its handlers succeeded. Change streams need a
 * replica set or a sharded cluster; a standalone server is refused at start.
 */
class MongoChangeStreamAdapter implements BrokerAdapter {
  readonly system = 'mongodb';
  readonly maxRecordBytes: number;
  readonly #connection: MongoConnection;
  readonly #settings: Settings;
  readonly #logger: Logger;

  constructor(settings: Settings, logger: Logger) {
    this.#settings = settings;
    this.#logger = logger;
    this.maxRecordBytes = settings.maxMessageBytes;
    this.#connection = new MongoConnection(settings, 'mongodb broker options');
  }

  get client(): MongoClient {
    return this.#connection.client;
  }

  async #connected(): Promise<MongoClient> {
    await this.#connection.connect();
    return this.#connection.client;
  }

  #messages() {
    return this.client.db(this.#settings.database).collection<MessageDocument>(this.#settings.messages);
  }

  checkTopic(topic: string): string | undefined {
    return /^[^\s$]{1,512}$/.test(topic) ? undefined : 'must be 1 to 512 characters without whitespace or $';
  }

  async publish(topic: string, records: readonly BrokerRecord[]): Promise<void> {
    await this.#connected();
    const publishedAt = new Date();
    await this.#messages().insertMany(
      records.map((record) => ({
        topic,
        ...(record.key === undefined ? {} : { key: record.key }),
        value: new Binary(record.value),
        headers: record.headers,
        publishedAt,
      })),
      { ordered: true },
    );
  }

  consumer(options: ConsumerLoopOptions): ConsumerLoop {
    const positions = (): ReturnType<MongoClient['db']> => this.client.db(this.#settings.database);
    const positionId = `${options.topic}\u0000${options.group}`;
    let stream: ChangeStream<MessageDocument, ChangeStreamInsertDocument<MessageDocument>> | undefined;
    let running = false;
    let loop: Promise<void> | undefined;
    const logger = this.#logger;

    const toRecord = (document: MessageDocument, position: string): DeliveredRecord => ({
      key: document.key,
      value: document.value.buffer,
      headers: document.headers,
      position,
    });

    const savePosition = (token: ResumeToken): Promise<unknown> =>
      positions()
        .collection<PositionDocument>(this.#settings.positions)
        .updateOne({ _id: positionId }, { $set: { token } }, { upsert: true });

    const run = async (current: NonNullable<typeof stream>): Promise<void> => {
      while (running) {
        const first = await current.next().catch((error: unknown) => {
          if (!running) return null;
          throw error;
        });
        if (first === null || !running) return;
        const batch = [first];
        // Whatever else has already arrived joins the batch, without waiting for more.
        for (
          let next = await current.tryNext();
          next !== null && batch.length < batchSize;
          next = await current.tryNext()
        ) {
          batch.push(next);
        }
        const handled = await options.process(
          batch.map((change) => toRecord(change.fullDocument, String(change.documentKey._id))),
        );
        // Each change's _id is its resume token: a part of the batch resumes after its last.
        if (handled === batch.length) await savePosition(current.resumeToken);
        else if (handled > 0) await savePosition(batch[handled - 1]!._id);
      }
    };

    return {
      start: async () => {
        const client = await this.#connected();
        const hello = await client.db('admin').command({ hello: 1 });
        if (typeof hello.setName !== 'string' && hello.msg !== 'isdbgrid') {
          throw new InfraError(
            'config',
            'MongoDB change streams need a replica set or a sharded cluster; this server is a standalone',
            { port: 'broker', adapter: 'mongodb', retryable: false },
          );
        }
        const saved = await positions()
          .collection<PositionDocument>(this.#settings.positions)
          .findOne({ _id: positionId });
        const pipeline = [{ $match: { operationType: 'insert', 'fullDocument.topic': options.topic } }];
        const startAt = hello.operationTime as Timestamp | undefined;
        stream = this.#messages().watch<MessageDocument, ChangeStreamInsertDocument<MessageDocument>>(
          pipeline,
          {
            ...(saved ? { resumeAfter: saved.token } : startAt ? { startAtOperationTime: startAt } : {}),
          },
        );
        if (!saved && options.fromBeginning) {
          // What was published before the group existed: read it, then the stream goes on from `startAt`.
          const backlog = await this.#messages().find({ topic: options.topic }).sort({ _id: 1 }).toArray();
          for (let i = 0; i < backlog.length; i += batchSize) {
            const part = backlog.slice(i, i + batchSize);
            // Closing: no position is saved for the backlog, so it is read again next time.
            const handled = await options.process(
              part.map((document) => toRecord(document, String(document._id))),
            );
            if (handled < part.length) return;
          }
        }
        running = true;
        const started = stream;
        loop = run(started).catch((error: unknown) => {
          if (!running) return;
          const code = (error as { code?: unknown }).code;
          if (code === changeStreamHistoryLost) {
            // Resuming again would fail the same way: surface it instead of looping.
            logger.error({ topic: options.topic, group: options.group }, 'change stream history lost');
            options.onCrash(
              new InfraError('not_found', 'the saved resume token is no longer in the oplog: history lost', {
                port: 'broker',
                adapter: 'mongodb',
                cause: error,
                retryable: false,
              }),
            );
            return;
          }
          options.onCrash(error);
        });
      },
      stop: async () => {
        running = false;
        await stream?.close().catch(() => undefined);
        await loop;
      },
    };
  }

  probe(signal: AbortSignal): Promise<HealthResult> {
    return this.#connection.probe(signal);
  }

  classifyError = classifyMongoError;

  close(): Promise<void> {
    return this.#connection.close();
  }
}

export interface MongoBroker extends Broker {
  /** The MongoDB driver's client, for what the port does not cover. */
  client(): MongoClient;
}

export function createMongoBroker(
  options: MongoBrokerOptions,
  runtime: Runtime = defaultRuntime(),
): MongoBroker {
  const settings = parseOptions(mongoBrokerOptionsSchema, options, 'mongodb broker options');
  const logger = runtime.logger.child({ component: settings.id ?? 'broker:mongodb' });
  warnIfUnverified(settings.tls, logger);
  const adapter = new MongoChangeStreamAdapter(settings, logger);
  const server = serverOfUrl(settings.url, 27017, settings.database);
  return extendPort(guardBroker(adapter, { ...settings, server }, runtime), { client: () => adapter.client });
}
