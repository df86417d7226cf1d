import { MongoClient } from 'mongodb';
import type { HealthResult } from '../../ports/component.ts';
import { ConfigError } from '../../ports/errors.ts';
import { Redacted, redactCredentials } from '../../ports/redacted.ts';

export interface MongoConnectionOptions {
  url: string;
  database: string;
  auth?: { username: string; password: string | Redacted<string> } | undefined;
  serverSelectionTimeoutMs: number;
  connectTimeoutMs: number;
  maxPoolSize: number;
  appName: string;
}

/**
 * One MongoDB client with berth's connection rules, shared by the document store and the
 * change-stream broker: bounded server selection, an explicit connect tried again after a
 * failure, and a ping probe.
 */
export class MongoConnection {
  readonly client: MongoClient;
  readonly database: string;
  #connected = false;
  #connecting: Promise<void> | undefined = undefined;

  /** `subject` names the options in a ConfigError, e.g. `mongodb broker options`. */
  constructor(options: MongoConnectionOptions, subject: string) {
    const auth = options.auth;
    try {
      this.client = new MongoClient(options.url, {
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
    } catch (cause) {
      // The driver parses the URL here; its message may quote the connection string.
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new ConfigError(subject, [{ path: 'url', message: redactCredentials(message) }]);
    }
    this.database = options.database;
  }

  // The driver's own connect-on-first-use closes the client for good when that first attempt
  // fails; connecting explicitly, and again after a failure, lets the adapter recover.
  connect(): Promise<void> {
    if (this.#connected) return Promise.resolve();
    this.#connecting ??= this.client.connect().then(
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

  // A ping that must answer ok: 1; server selection fails within serverSelectionTimeoutMs.
  async probe(signal: AbortSignal): Promise<HealthResult> {
    await this.connect();
    const reply = await this.client.db(this.database).command({ ping: 1 }, { signal });
    return reply['ok'] === 1 ? { status: 'up' } : { status: 'down', error: 'ping did not answer ok: 1' };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
