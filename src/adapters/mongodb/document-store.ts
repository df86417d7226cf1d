import { MongoClient, type Collection, type Db, type Document, type Filter, type Sort } from 'mongodb';
import type { HealthResult } from '../../ports/component.ts';
import type {
  DocumentAdapterFindOptions,
  DocumentFilter,
  DocumentStore,
  DocumentStoreAdapter,
  RawDocument,
} from '../../ports/document-store.ts';
import { ConfigError } from '../../ports/errors.ts';
import { Redacted, redactCredentials } from '../../ports/redacted.ts';
import { parseOptions } from '../../config/validate.ts';
import {
  mongoDocumentStoreOptionsSchema,
  type MongoDocumentStoreOptions,
} from '../../config/document-store-schemas.ts';
import { guardDocumentStore } from '../../runtime/guarded-document-store.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { classifyMongoError } from './errors.ts';

type ParsedOptions = ReturnType<typeof parseMongoOptions>;
const parseMongoOptions = (options: unknown) =>
  parseOptions(mongoDocumentStoreOptionsSchema, options, 'mongodb document store options');

function createMongoClient(options: ParsedOptions): MongoClient {
  const auth = options.auth;
  return new MongoClient(options.url, {
    appName: options.appName,
    // Fail fast while no server answers, so callers and probes see `unavailable` within bounds.
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs,
    connectTimeoutMS: options.connectTimeoutMs,
    maxPoolSize: options.maxPoolSize,
    ...(auth === undefined
      ? {}
      : {
          auth: {
            username: auth.username,
            password: auth.password instanceof Redacted ? auth.password.reveal() : auth.password,
          },
        }),
  });
}

// The driver's update types reject `unknown` index signatures, so fields are `any` here.
interface StoredShape extends Document {
  _id: string;
  _version: number;
}

class MongoDocumentStoreAdapter implements DocumentStoreAdapter {
  readonly system = 'mongodb';
  readonly #client: MongoClient;
  readonly #db: Db;

  constructor(client: MongoClient, database: string) {
    this.#client = client;
    this.#db = client.db(database);
  }

  #connected = false;
  #connecting: Promise<void> | undefined = undefined;
  #serialWrites: Promise<boolean> | undefined = undefined;
  readonly #writes = new Map<string, Promise<unknown>>();

  // The driver's own connect-on-first-use closes the client for good when that first attempt
  // fails; connecting explicitly, and again after a failure, lets the store recover.
  #connect(): Promise<void> {
    if (this.#connected) return Promise.resolve();
    this.#connecting ??= this.#client.connect().then(
      () => {
        this.#connected = true;
      },
      (error: unknown) => {
        this.#connecting = undefined;
        throw error;
      },
    );
    return this.#connecting;
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

  // A ping that must answer ok: 1; server selection fails within serverSelectionTimeoutMs.
  async probe(signal: AbortSignal): Promise<HealthResult> {
    await this.#connect();
    const reply = await this.#db.command({ ping: 1 }, { signal });
    return reply['ok'] === 1 ? { status: 'up' } : { status: 'down', error: 'ping did not answer ok: 1' };
  }

  classifyError = classifyMongoError;

  close(): Promise<void> {
    return this.#client.close();
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
  let client: MongoClient;
  try {
    client = createMongoClient(parsed);
  } catch (cause) {
    // The driver parses the URL here; its message may quote the connection string.
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError('mongodb document store options', [
      { path: 'url', message: redactCredentials(message) },
    ]);
  }
  const store = guardDocumentStore(
    new MongoDocumentStoreAdapter(client, parsed.database),
    { id: parsed.id ?? 'documents:mongodb', policies: parsed.policies },
    runtime,
  );
  return { ...store, client: () => client, [Symbol.asyncDispose]: () => store.close() };
}
