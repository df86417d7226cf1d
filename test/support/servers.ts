/**
 * How tests find the real servers they need (see ARCHITECTURE.md, "Tests"), in this order:
 *   1. an environment variable (`REDIS_URL`, …) naming a server that is already up;
 *   2. a local server that test/servers/services.ts installs and starts, without Docker;
 *   3. Testcontainers, only when a Docker engine answers (the container stops at exit);
 *   4. otherwise `{ skip: reason }`, with the reason printed to stderr.
 * Under `CI=true`, when this machine can provide the server (test/servers/services.ts
 * `canProvide`) but it could not be obtained, it throws instead of skipping.
 *
 * Each server is one `findServer` call; results are memoised per process.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { GenericContainer, StartedTestContainer } from 'testcontainers';
import { canProvide, ensureService } from '../servers/services.ts';
import { LOWKEY_VAULT_VERSION } from '../servers/launchers/keyvault.ts';

export interface ContainerRecipe {
  /** e.g. `redis:7-alpine`. */
  readonly image: string;
  /** The container port the tests connect to. */
  readonly port: number;
  /** The value of the server's env var, given the mapped host and port. */
  value(host: string, mappedPort: number): string;
  /** Extra settings (command, env, wait strategy) before start. */
  configure?(container: GenericContainer): GenericContainer;
  /** More env vars a test needs (e.g. a CA file), once the container runs. */
  env?(container: StartedTestContainer): Promise<Record<string, string>>;
}

export interface ServerOptions {
  /** The env var that names a running server, e.g. `REDIS_URL`; also the key read from the local service's env. */
  readonly envVar: string;
  /** Name in the test/servers/services.ts table, when the project can run it locally without Docker. */
  readonly service?: string;
  /** How to run it with Testcontainers where a Docker engine answers. */
  readonly container?: ContainerRecipe;
}

export interface FoundServer {
  /** The value of `envVar` to connect with. */
  readonly value: string;
  readonly source: 'env' | 'local' | 'container';
  /** The other env vars of the local service or container (e.g. a CA file), when it has some. */
  readonly env?: Readonly<Record<string, string>>;
}

export type Skip = { readonly skip: string };

export { findKafka, findKafka4 } from './kafka-servers.ts';
export { findMssql, findPostgres } from './sql-servers.ts';

const found = new Map<string, Promise<FoundServer | Skip>>();

/** Finds (or starts) a server; memoised per name for the life of the process. */
export function findServer(name: string, options: ServerOptions): Promise<FoundServer | Skip> {
  let result = found.get(name);
  if (!result) {
    result = locate(name, options);
    found.set(name, result);
  }
  return result;
}

export async function findRedis(): Promise<{ url: string } | Skip> {
  const server = await findServer('redis', {
    envVar: 'REDIS_URL',
    service: 'redis',
    container: {
      image: 'redis:7-alpine',
      port: 6379,
      value: (host, port) => `redis://${host}:${port}`,
    },
  });
  return 'skip' in server ? server : { url: server.value };
}

/** Redis Cluster, three masters and three replicas; `BERTH_REDIS_CLUSTER_NODES` lists `host:port` of its nodes (not `REDIS_CLUSTER_NODES`, which beside `REDIS_URL` would be an app's conflicting config). */
export async function findRedisCluster(): Promise<{ nodes: string[] } | Skip> {
  const server = await findServer('redis cluster', {
    envVar: 'BERTH_REDIS_CLUSTER_NODES',
    service: 'redis-cluster',
  });
  if ('skip' in server) return server;
  return {
    nodes: server.value
      .split(',')
      .map((node) => node.trim())
      .filter(Boolean),
  };
}

/**
 * Apache Cassandra 5.0 (one node); `CASSANDRA_CONTACT_POINTS` is a comma-separated list of
 * `host:port`, `CASSANDRA_LOCAL_DATACENTER` the data center to route to (datacenter1 if unset).
 */
export async function findCassandra(): Promise<{ contactPoints: string[]; localDataCenter: string } | Skip> {
  const server = await findServer('cassandra', {
    envVar: 'CASSANDRA_CONTACT_POINTS',
    service: 'cassandra',
    container: {
      image: 'cassandra:5.0.9',
      port: 9042,
      value: (host, port) => `${host}:${port}`,
      configure: (container) =>
        container
          .withEnvironment({
            MAX_HEAP_SIZE: '1G',
            HEAP_NEWSIZE: '256M',
            // One node: no ring to wait for (as test/servers/launchers/cassandra.ts starts it).
            JVM_EXTRA_OPTS: '-Dcassandra.ring_delay_ms=100 -Dcassandra.skip_wait_for_gossip_to_settle=0',
          })
          .withStartupTimeout(180_000),
      env: () => Promise.resolve({ CASSANDRA_LOCAL_DATACENTER: 'datacenter1' }),
    },
  });
  if ('skip' in server) return server;
  const localDataCenter =
    (server.source === 'env'
      ? process.env['CASSANDRA_LOCAL_DATACENTER']
      : server.env?.['CASSANDRA_LOCAL_DATACENTER']) || 'datacenter1';
  return {
    contactPoints: server.value
      .split(',')
      .map((point) => point.trim())
      .filter(Boolean),
    localDataCenter,
  };
}

/**
 * An Azure Key Vault emulator over HTTPS with its own self-signed certificate (`caFile`): locally
 * berth's own (test/servers/keyvault/server.ts), which also issues tokens to the client
 * `tenantId`/`clientId`/`clientSecret` at `authorityHost`; in a container Lowkey Vault, which has
 * no token endpoint (those stay undefined; it takes any bearer token).
 */
export async function findKeyVault(): Promise<
  | {
      url: string;
      caFile: string;
      tenantId?: string;
      clientId?: string;
      clientSecret?: string;
      authorityHost?: string;
    }
  | Skip
> {
  const server = await findServer('keyvault', {
    envVar: 'AZURE_KEYVAULT_URL',
    service: 'keyvault',
    container: {
      image: `nagyesta/lowkey-vault:${LOWKEY_VAULT_VERSION}`,
      port: 8443,
      value: (host, port) => `https://${host}:${port}`,
      // Port matching relaxed: the vault is registered for 8443, reached on a mapped port.
      configure: (container) =>
        container.withEnvironment({ LOWKEY_ARGS: '--LOWKEY_VAULT_RELAXED_PORTS=true' }),
      // Its certificate, taken from its token port inside the container with the image's keytool.
      env: async (container) => {
        const script =
          'wget -qO /tmp/lowkey-vault.p12 http://127.0.0.1:8080/metadata/default-cert/lowkey-vault.p12 && ' +
          'keytool -list -rfc -storetype PKCS12 -keystore /tmp/lowkey-vault.p12 ' +
          '-storepass "$(wget -qO- http://127.0.0.1:8080/metadata/default-cert/password)"';
        const { output, exitCode } = await container.exec(['sh', '-c', script]);
        const pem = output.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
        if (exitCode !== 0 || !pem)
          throw new Error(`no certificate from the lowkey-vault container: ${output}`);
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'berth-keyvault-')), 'lowkey-vault.pem');
        fs.writeFileSync(file, `${pem.join('\n')}\n`);
        return { AZURE_KEYVAULT_CA_FILE: file };
      },
    },
  });
  if ('skip' in server) return server;
  const caFile = server.env?.['AZURE_KEYVAULT_CA_FILE'] ?? process.env['AZURE_KEYVAULT_CA_FILE'];
  if (!caFile) {
    return skip(
      `keyvault at ${server.value} (${server.source}) but no AZURE_KEYVAULT_CA_FILE: ` +
        'set it to a PEM of its certificate',
    );
  }
  // Only from where the URL came: a container's client settings are never the environment's.
  const setting = (name: string): string | undefined =>
    server.source === 'env' ? process.env[name] : server.env?.[name];
  const optional: { tenantId?: string; clientId?: string; clientSecret?: string; authorityHost?: string } =
    {};
  for (const [key, name] of [
    ['tenantId', 'AZURE_KEYVAULT_TENANT_ID'],
    ['clientId', 'AZURE_KEYVAULT_CLIENT_ID'],
    ['clientSecret', 'AZURE_KEYVAULT_CLIENT_SECRET'],
    ['authorityHost', 'AZURE_KEYVAULT_AUTHORITY_HOST'],
  ] as const) {
    const value = setting(name);
    if (value) optional[key] = value;
  }
  return { url: server.value, caFile, ...optional };
}

/** MongoDB wire protocol: FerretDB 1.24 (SQLite) locally or in a container. */
/**
 * A MongoDB replica set, for change streams. FerretDB has none and this machine cannot run
 * MongoDB itself, so it comes only from MONGODB_REPLICA_SET_URL (e.g. the `mongodb-replica-set`
 * service of docker-compose.test.yml); without it the tests skip, under CI=true too.
 */
export async function findMongoReplicaSet(): Promise<{ url: string } | Skip> {
  const server = await findServer('mongodb replica set', { envVar: 'MONGODB_REPLICA_SET_URL' });
  return 'skip' in server ? server : { url: server.value };
}

export async function findMongo(): Promise<{ url: string } | Skip> {
  const server = await findServer('mongodb', {
    envVar: 'MONGODB_URL',
    service: 'mongodb',
    container: {
      image: 'ghcr.io/ferretdb/ferretdb:1.24.2',
      port: 27017,
      value: (host, port) => `mongodb://${host}:${port}/`,
      configure: (container) =>
        container.withEnvironment({
          FERRETDB_HANDLER: 'sqlite',
          FERRETDB_SQLITE_URL: 'file:/state/',
          FERRETDB_TELEMETRY: 'disable',
        }),
    },
  });
  return 'skip' in server ? server : { url: server.value };
}

function skip(reason: string): Skip {
  process.stderr.write(`[servers] skip: ${reason}\n`);
  return { skip: reason };
}

async function locate(name: string, options: ServerOptions): Promise<FoundServer | Skip> {
  const fromEnv = process.env[options.envVar];
  if (fromEnv) return { value: fromEnv, source: 'env' };

  const reasons: string[] = [`${options.envVar} is not set`];
  const providable = options.service !== undefined && canProvide(options.service);

  if (options.service !== undefined) {
    if (providable) {
      try {
        const env = await ensureService(options.service);
        const value = env[options.envVar];
        if (value) return { value, source: 'local', env };
        reasons.push(`test/servers/services.ts '${options.service}' gave no ${options.envVar}`);
      } catch (error) {
        reasons.push(`local ${options.service} failed: ${message(error)}`);
      }
    } else {
      reasons.push(`this machine cannot run ${options.service} locally (not installed, not installable)`);
    }
  }

  if (options.container) {
    const docker = await dockerEndpoint();
    if (docker) {
      try {
        const { value, env } = await startContainer(options.container);
        return { value, source: 'container', env };
      } catch (error) {
        reasons.push(`Testcontainers (${options.container.image}) failed: ${message(error)}`);
      }
    } else {
      reasons.push('no Docker engine answers (DOCKER_HOST, /var/run/docker.sock)');
    }
  }

  const reason = `no ${name} server: ${reasons.join('; ')}`;
  if (process.env['CI'] === 'true' && providable) {
    throw new Error(`${reason} (CI=true and this machine can provide ${name}: a skip would hide a failure)`);
  }
  process.stderr.write(`[servers] skip: ${reason}\n`);
  return { skip: reason };
}

// ---------------------------------------------------------------------------------------------
// Testcontainers
// ---------------------------------------------------------------------------------------------

const started: StartedTestContainer[] = [];

async function startContainer(
  recipe: ContainerRecipe,
): Promise<{ value: string; env: Record<string, string> }> {
  // Imported only here: loading testcontainers costs time and wants a Docker engine.
  const { GenericContainer } = await import('testcontainers');
  let container = new GenericContainer(recipe.image).withExposedPorts(recipe.port);
  if (recipe.configure) container = recipe.configure(container);
  const running = await container.start();
  if (started.length === 0) {
    // Stop them when the test process runs out of work; Testcontainers' reaper (Ryuk)
    // removes them should the process die without getting here.
    process.once('beforeExit', () => {
      void Promise.allSettled(started.splice(0).map((c) => c.stop()));
    });
  }
  started.push(running);
  return {
    value: recipe.value(running.getHost(), running.getMappedPort(recipe.port)),
    env: recipe.env ? await recipe.env(running) : {},
  };
}

/** Where a Docker engine answers `GET /_ping`, else undefined. Takes at most ~1 s per candidate. */
export async function dockerEndpoint(timeoutMs = 1000): Promise<string | undefined> {
  const candidates: Array<net.NetConnectOpts> = [];
  const dockerHost = process.env['DOCKER_HOST'];
  if (dockerHost) {
    if (dockerHost.startsWith('unix://')) candidates.push({ path: dockerHost.slice('unix://'.length) });
    else if (dockerHost.startsWith('tcp://')) {
      const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
      candidates.push({ host: url.hostname, port: Number(url.port || 2375) });
    }
  } else {
    const runtimeDir = process.env['XDG_RUNTIME_DIR'];
    const paths = [
      '/var/run/docker.sock',
      ...(runtimeDir ? [path.join(runtimeDir, 'docker.sock')] : []),
      path.join(os.homedir(), '.docker', 'run', 'docker.sock'),
      path.join(os.homedir(), '.docker', 'desktop', 'docker.sock'),
    ];
    for (const socketPath of paths) if (fs.existsSync(socketPath)) candidates.push({ path: socketPath });
  }
  for (const candidate of candidates) {
    // With TLS (DOCKER_TLS_VERIFY) the plain HTTP ping cannot work: a TCP connect must do.
    const tls = 'port' in candidate && process.env['DOCKER_TLS_VERIFY'];
    if (await dockerPing(candidate, timeoutMs, Boolean(tls))) {
      return 'path' in candidate ? `unix://${candidate.path}` : `tcp://${candidate.host}:${candidate.port}`;
    }
  }
  return undefined;
}

function dockerPing(target: net.NetConnectOpts, timeoutMs: number, connectOnly: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(target);
    let reply = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => {
      if (connectOnly) done(true);
      else socket.write('GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n');
    });
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\r\n')) done(/^HTTP\/1\.[01] 200/.test(reply));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
