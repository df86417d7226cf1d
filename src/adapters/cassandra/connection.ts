import { auth, Client, policies, types, type Host } from 'cassandra-driver';
import type { Logger } from 'pino';
import type { HealthResult } from '../../ports/component.ts';
import { Redacted } from '../../ports/redacted.ts';
import { nodeTlsOptions, plaintextToTlsDiagnosis } from '../shared/tls.ts';
import type { CassandraConsistency, ParsedCassandraTimeSeriesOptions } from './options.ts';

/** The driver's number for a consistency level named in the options. */
export const consistencyLevel = (name: CassandraConsistency): number => types.consistencies[name];

type ConnectionOptions = Pick<
  ParsedCassandraTimeSeriesOptions,
  'contactPoints' | 'localDataCenter' | 'credentials' | 'connectTimeoutMs' | 'speculativeExecution' | 'tls'
>;

function createClient(options: ConnectionOptions): Client {
  const { credentials, speculativeExecution } = options;
  const password = credentials?.password;
  return new Client({
    contactPoints: options.contactPoints,
    localDataCenter: options.localDataCenter,
    ...(credentials === undefined
      ? {}
      : {
          authProvider: new auth.PlainTextAuthProvider(
            credentials.username,
            password instanceof Redacted ? password.reveal() : (password as string),
          ),
        }),
    // v4 is the newest this driver speaks with Cassandra and ScyllaDB; starting there skips a
    // refused v5/DSE handshake on every connection.
    protocolOptions: { maxVersion: types.protocolVersion.v4 },
    socketOptions: { connectTimeout: options.connectTimeoutMs },
    // The driver hands these to node's tls.connect.
    ...(options.tls === undefined ? {} : { sslOptions: nodeTlsOptions(options.tls) }),
    policies: {
      // Token-aware within the local data center: a statement goes to a replica of its partition.
      loadBalancing: new policies.loadBalancing.DefaultLoadBalancingPolicy({
        localDc: options.localDataCenter,
      }),
      // The driver's default waits up to 10 minutes between attempts to reach a node that was down.
      reconnection: new policies.reconnection.ExponentialReconnectionPolicy(100, 2_000, true),
      ...(speculativeExecution === undefined
        ? {}
        : {
            speculativeExecution: new policies.speculativeExecution.ConstantSpeculativeExecutionPolicy(
              speculativeExecution.delayMs,
              speculativeExecution.maxExecutions,
            ),
          }),
    },
  });
}

function everyNodeReset(error: unknown): boolean {
  const inner = Object.values((error as { innerErrors?: Record<string, unknown> }).innerErrors ?? {});
  return inner.length > 0 && inner.every((cause) => (cause as { code?: unknown }).code === 'ECONNRESET');
}

/**
 * One cassandra-driver client with berth's connection rules: connected on first use and again
 * after a failed attempt, the schema created once when asked (before any statement), node
 * transitions logged, and a probe that reads `system.local` and the driver's view of the nodes.
 */
export class CassandraConnection {
  readonly client: Client;
  readonly #schema: readonly string[];
  readonly #probeTimeoutMs: number;
  #connecting: Promise<void> | undefined;
  #ready: Promise<void> | undefined;
  readonly #diagnose: (error: unknown) => Promise<unknown>;

  /** `schema`: the statements that create the keyspace and tables, empty when they must exist. */
  constructor(options: ConnectionOptions, schema: readonly string[], logger: Logger) {
    this.client = createClient(options);
    this.#schema = schema;
    this.#probeTimeoutMs = options.connectTimeoutMs;
    // A node wanting TLS resets a plaintext client: every node reset is asked whether it speaks TLS.
    const diagnose = plaintextToTlsDiagnosis(options.contactPoints[0] ?? '', everyNodeReset);
    this.#diagnose = options.tls === undefined ? diagnose : (error) => Promise.resolve(error);
    this.client.on('hostDown', (host: { address: string }) =>
      logger.warn({ node: host.address }, 'Cassandra node down'),
    );
    this.client.on('hostUp', (host: { address: string }) =>
      logger.info({ node: host.address }, 'Cassandra node up'),
    );
    this.client.on('hostRemove', (host: Host) => this.#shutDownIfReplaced(host));
  }

  // cassandra-driver 4.10: when every node was down, the control connection starts over and puts a
  // new Host in place of each one it finds again, without shutting the old one down. The old one
  // would try to reconnect for ever and keep the process alive after close(); it is shut down here.
  #shutDownIfReplaced(host: Host): void {
    const current = this.client.hosts.get(host.address) as Host | undefined;
    if (current === undefined || current === host) return;
    const internal = host as Host & { shutdown?: (waitForPending: boolean) => Promise<void> };
    void internal.shutdown?.(false).catch(() => undefined);
  }

  // The driver lets connect() be called again after a failure; berth holds the attempt so that
  // close() can wait for it (the driver's shutdown skips a client that is still connecting).
  #connect(): Promise<void> {
    this.#connecting ??= this.client.connect().catch(async (error: unknown) => {
      this.#connecting = undefined;
      throw await this.#diagnose(error);
    });
    return this.#connecting;
  }

  /** Connected, with the schema in place; a failed attempt is tried again by the next call. */
  ready(): Promise<void> {
    this.#ready ??= this.#connect()
      .then(async () => {
        // One at a time: a table needs its keyspace, and concurrent schema changes can disagree.
        for (const statement of this.#schema)
          await this.client.execute(statement, [], { isIdempotent: true }); // IF NOT EXISTS
      })
      .catch((error: unknown) => {
        this.#ready = undefined;
        throw error;
      });
    return this.#ready;
  }

  /** `SELECT release_version FROM system.local`, bounded; some nodes down makes it degraded. */
  async probe(): Promise<HealthResult> {
    await this.#connect();
    const result = await this.client.execute('SELECT release_version FROM system.local', [], {
      prepare: true,
      isIdempotent: true,
      readTimeout: this.#probeTimeoutMs,
    });
    const hosts = this.client.hosts.values();
    const down = hosts.filter((host) => !host.isUp()).map((host) => host.address);
    return {
      status: down.length === 0 ? 'up' : 'degraded',
      details: {
        releaseVersion: String(result.first()?.get('release_version')),
        hosts: hosts.length,
        hostsUp: hosts.length - down.length,
        ...(down.length === 0 ? {} : { hostsDown: down }),
      },
    };
  }

  async close(): Promise<void> {
    await this.#connecting?.catch(() => undefined);
    await this.client.shutdown();
  }
}
