import { MongoClient, MongoNetworkError, type MongoClientOptions, type TopologyDescription } from 'mongodb';
import type { HealthResult } from '../../ports/component.ts';
import { ConfigError } from '../../ports/errors.ts';
import { Redacted, redactCredentials } from '../../ports/redacted.ts';
import type { TlsSettings } from '../../runtime/options/schema-pieces.ts';
import { classifyTlsError, nodeTlsOptions, transportMismatch } from '../shared/tls.ts';

export interface MongoConnectionOptions {
  url: string;
  database: string;
  auth?: { username: string; password: string | Redacted<string> } | undefined;
  serverSelectionTimeoutMs: number;
  connectTimeoutMs: number;
  maxPoolSize: number;
  appName: string;
  tls?: TlsSettings | undefined;
}

const outageTrialEveryMs = 1_000;

function mongoTls(settings: TlsSettings): MongoClientOptions {
  const { ca, cert, key, servername, rejectUnauthorized } = nodeTlsOptions(settings);
  return {
    tls: true,
    tlsAllowInvalidCertificates: rejectUnauthorized === false,
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(servername === undefined ? {} : { servername }),
  };
}

/** Whether a server's last check failed for good: its host refused the connection, or TLS failed. */
function refusedConnection(error: unknown): boolean {
  if (classifyTlsError(error) !== undefined) return true;
  for (let cause = error; typeof cause === 'object' && cause !== null; cause = (cause as Error).cause) {
    if ((cause as { code?: unknown }).code === 'ECONNREFUSED') return true;
  }
  return false;
}

const noHello = { send: '', answers: () => false };

/**
 * One MongoDB client with berth's connection rules, shared by the document store and the
 * change-stream broker: bounded server selection, an explicit connect tried again after a
 * failure that fails at once when every server refuses, and a ping probe.
 */
export class MongoConnection {
  readonly client: MongoClient;
  readonly database: string;
  #connected = false;
  #connecting: Promise<void> | undefined = undefined;
  /** The driver's own connect, which waits out server selection; it may outlive a `#connecting` cut short. */
  #driverConnect: Promise<void> | undefined = undefined;
  /** Set while every server of the topology being connected refused its last connection. */
  #refusal: Error | undefined = undefined;
  #failConnecting: ((error: Error) => void) | undefined = undefined;
  /** Set while, once connected, every server's last check failed on the network (reset, refused). */
  #outage: Error | undefined = undefined;
  #outageTrialAt = 0;
  readonly #tls: boolean;
  #diagnosed = false;

  /** `subject` names the options in a ConfigError, e.g. `mongodb broker options`. */
  constructor(options: MongoConnectionOptions, subject: string) {
    const auth = options.auth;
    this.#tls = options.tls !== undefined || /[?&](tls|ssl)=true\b/.test(options.url);
    try {
      this.client = new MongoClient(options.url, {
        appName: options.appName,
        // Fail fast while no server answers, so callers and probes see `unavailable` within bounds.
        serverSelectionTimeoutMS: options.serverSelectionTimeoutMs,
        connectTimeoutMS: options.connectTimeoutMs,
        maxPoolSize: options.maxPoolSize,
        // Node's TLS options pass through the driver; an unverified server is named as such.
        ...(options.tls === undefined ? {} : mongoTls(options.tls)),
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
    this.client.on('topologyDescriptionChanged', (event) => this.#watch(event.newDescription));
  }

  // The driver learns of a refused connection in milliseconds and then waits out
  // serverSelectionTimeoutMS anyway; the topology description says so as soon as it is known.
  #watch(description: TopologyDescription): void {
    const servers = [...description.servers.values()];
    if (this.#driverConnect === undefined) {
      // Connected: while no server is reachable the driver would wait out server selection per call.
      const lost =
        servers.length > 0 &&
        servers.every((s) => s.type === 'Unknown' && s.error instanceof MongoNetworkError);
      this.#outage = lost ? (servers[0]!.error ?? undefined) : undefined;
      return;
    }
    const refused =
      servers.length > 0 && servers.every((s) => s.type === 'Unknown' && refusedConnection(s.error));
    this.#refusal = refused ? (servers[0]!.error ?? undefined) : undefined;
    if (this.#refusal !== undefined) this.#failConnecting?.(this.#refusal);
    else if (!this.#tls && !this.#diagnosed && servers[0]?.error instanceof MongoNetworkError)
      this.#diagnose(servers[0].address, servers[0].error);
  }

  // A TLS listener closes a plaintext client without a word: asked once whether it speaks TLS.
  #diagnose(address: string, error: Error): void {
    this.#diagnosed = true;
    const colon = address.lastIndexOf(':');
    const target = { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
    void transportMismatch(target, false, noHello, 500, error).then((named) => {
      if (named === undefined || this.#driverConnect === undefined) return;
      this.#refusal = named;
      this.#failConnecting?.(named);
    });
  }

  // The driver's own connect-on-first-use closes the client for good when that first attempt
  // fails; connecting explicitly, and again after a failure, lets the adapter recover.
  connect(): Promise<void> {
    if (this.#connected) return this.#outageCheck();
    // While the driver's attempt still waits, every server refusing is an answer now.
    if (this.#refusal !== undefined) return Promise.reject(this.#refusal);
    this.#connecting ??= new Promise<void>((resolve, reject) => {
      this.#failConnecting = reject;
      this.#driverConnect ??= this.client
        .connect()
        .then(() => {
          this.#connected = true;
        })
        .finally(() => {
          this.#driverConnect = undefined;
          this.#refusal = undefined;
        });
      this.#driverConnect.then(resolve, reject);
    }).finally(() => {
      this.#connecting = undefined;
      this.#failConnecting = undefined;
    });
    return this.#connecting;
  }

  /**
   * During an outage calls fail at once, but one a second goes to the driver: its server selection
   * asks the monitors to check now, which is how the outage is seen to end (heartbeats are 10 s apart).
   */
  #outageCheck(): Promise<void> {
    if (this.#outage === undefined) return Promise.resolve();
    const now = performance.now();
    if (now - this.#outageTrialAt < outageTrialEveryMs) return Promise.reject(this.#outage);
    this.#outageTrialAt = now;
    return Promise.resolve();
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
