import { type MongoClient, type Collection, type Db, type Document, type Filter, type Sort } from 'mongodb';
import type { HealthResult } from '../../ports/component.ts';
import type {
  DocumentAdapterFindOptions,
  DocumentFilter,
  DocumentStore,
  DocumentStoreAdapter,
  RawDocument,
} from '../../ports/document-store.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { mongoDocumentStoreOptionsSchema, type MongoDocumentStoreOptions } from './options.ts';
import { guardDocumentStore } from '../../runtime/documents/guarded-document-store.ts';
import { extendPort } from '../../runtime/extend-port.ts';
import { serverOfUrl } from '../../runtime/telemetry/server-info.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { MongoConnection } from './connection.ts';
import { classifyMongoError } from './errors.ts';
import { warnIfUnverified } from '../shared/tls.ts';

const parseMongoOptions = (options: unknown) =>
  parseOptions(mongoDocumentStoreOptionsSchema, options, 'mongodb document store options');

// The driver's update types reject `unknown` index signatures, so fields are `any` here.
interface StoredShape extends Document {
  _id: string;
  _version: number;
}

class MongoDocumentStoreAdapter implements DocumentStoreAdapter {
  readonly system = 'mongodb';
  readonly #connection: MongoConnection;
  readonly #db: Db;

  constructor(connection: MongoConnection) {
    this.#connection = connection;
    this.#db = connection.client.db(connection.database);
  }

  #serialWrites: Promise<boolean> | undefined = undefined;
  readonly #writes = new Map<string, Promise<unknown>>();

  #connect(): Promise<void> {
    return this.#connection.connect();
  }

  // FerretDB 1.x matches an update's filter and writes the result in two steps, so two updates
  // expecting one version can both win; berth then serializes writes per document in-process.
  #needsSerialWrites(): Promise<boolean> {
    this.#serialWrites ??= this.#db
      .admin()
      .command({ buildInfo: 1 })
      .then(
        (info) => 'ferretdbVersion' in info,
        (error: unknown) => {
          this.#serialWrites = undefined;
          throw error;
        },
      );
    return this.#serialWrites;
  }

  async #write<T>(name: string, id: string, write: () => Promise<T>): Promise<T> {
    if (!(await this.#needsSerialWrites())) return write();
    const key = `${name}\0${id}`;
    const result = (this.#writes.get(key) ?? Promise.resolve()).then(write);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.#writes.set(key, settled);
    void settled.then(() => {
      if (this.#writes.get(key) === settled) this.#writes.delete(key);
    });
    return result;
  }

  #collection(name: string): Collection<StoredShape> {
    return this.#db.collection<StoredShape>(name);
  }

  async createUniqueIndexes(name: string, paths: readonly string[]): Promise<void> {
    await this.#connect();
    const collection = this.#collection(name);
    for (const path of paths) {
      await collection.createIndex({ [path]: 1 }, { unique: true, name: `berth_unique_${path}` });
    }
  }

  async insert(name: string, document: RawDocument): Promise<void> {
    await this.#connect();
    // The driver adds `_id` to what it inserts; the store's own object must stay as returned.
    await this.#collection(name).insertOne({ ...document });
  }

  async get(name: string, id: string, ctx: { signal: AbortSignal }): Promise<RawDocument | undefined> {
    await this.#connect();
    const found = await this.#collection(name).findOne({ _id: id }, { signal: ctx.signal });
    return found ?? undefined;
  }

  async find(
    name: string,
    filter: DocumentFilter,
    options: DocumentAdapterFindOptions,
    ctx: { signal: AbortSignal },
  ): Promise<RawDocument[]> {
    await this.#connect();
    return this.#collection(name)
      .find(filter as Filter<StoredShape>, {
        sort: options.sort as Sort,
        ...(options.skip === undefined ? {} : { skip: options.skip }),
        ...(options.limit === undefined ? {} : { limit: options.limit }),
        signal: ctx.signal,
      })
      .toArray();
  }

  async count(name: string, filter: DocumentFilter, ctx: { signal: AbortSignal }): Promise<number> {
    await this.#connect();
    return this.#collection(name).countDocuments(filter, { signal: ctx.signal });
  }

  async patch(
    name: string,
    id: string,
    set: Readonly<Record<string, unknown>>,
    unset: readonly string[],
    expectedVersion: number | undefined,
  ): Promise<RawDocument | undefined> {
    await this.#connect();
    const filter: Filter<StoredShape> =
      expectedVersion === undefined ? { _id: id } : { _id: id, _version: expectedVersion };
    // Empty operators are refused by older servers and by FerretDB.
    const update = {
      ...(Object.keys(set).length === 0 ? {} : { $set: set }),
      ...(unset.length === 0 ? {} : { $unset: Object.fromEntries(unset.map((path) => [path, ''])) }),
      $inc: { _version: 1 },
    };
    const after = await this.#write(name, id, () =>
      this.#collection(name).findOneAndUpdate(filter, update, { returnDocument: 'after' }),
    );
    return after ?? undefined;
  }

  async replace(name: string, document: RawDocument, expectedVersion: number): Promise<boolean> {
    await this.#connect();
    const result = await this.#write(name, document._id, () =>
      this.#collection(name).replaceOne({ _id: document._id, _version: expectedVersion }, { ...document }),
    );
    return result.matchedCount > 0;
  }

  async delete(name: string, id: string, expectedVersion: number | undefined): Promise<number> {
    await this.#connect();
    const filter: Filter<StoredShape> =
      expectedVersion === undefined ? { _id: id } : { _id: id, _version: expectedVersion };
    return (await this.#write(name, id, () => this.#collection(name).deleteOne(filter))).deletedCount;
  }

  probe(signal: AbortSignal): Promise<HealthResult> {
    return this.#connection.probe(signal);
  }

  classifyError = classifyMongoError;

  close(): Promise<void> {
    return this.#connection.close();
  }
}

export interface MongoDocumentStore extends DocumentStore {
  /** The `mongodb` driver's client, for what the port does not cover. */
  client(): MongoClient;
}

export function createMongoDocumentStore(
  options: MongoDocumentStoreOptions,
  runtime: Runtime = defaultRuntime(),
): MongoDocumentStore {
  const parsed = parseMongoOptions(options);
  warnIfUnverified(parsed.tls, runtime.logger.child({ component: parsed.id ?? 'documents:mongodb' }));
  const connection = new MongoConnection(parsed, 'mongodb document store options');
  const server = serverOfUrl(parsed.url, 27017, parsed.database);
  const store = guardDocumentStore(new MongoDocumentStoreAdapter(connection), { ...parsed, server }, runtime);
  return extendPort(store, { client: () => connection.client });
}
