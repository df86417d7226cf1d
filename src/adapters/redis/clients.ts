import type { ConnectionOptions } from 'node:tls';
import { createClient, createCluster } from 'redis';
import { backoffDelayMs, type BackoffPolicy } from '../../runtime/guard/backoff.ts';

// Backoff between reconnects, capped so the client comes back within a second of Redis.
const reconnectBackoff: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 1_000, jitter: 'half' };
export const reconnectDelayMs = (retries: number): number => backoffDelayMs(reconnectBackoff, retries);

// A node that stops answering makes the client ask for the slots again (a replica may have taken
// over) at its reconnect attempts from this long on, so about once a second: node-redis's 5 s
// default would add that much to every failover.
const topologyRefreshAfterMs = 250;

export interface RedisClusterSettings {
  /** `host:port` of some nodes; the client learns the others from them. */
  nodes: readonly string[];
  tls: boolean;
  username?: string | undefined;
}

/** A connection's settings besides its target: node's TLS options are set only for a TLS one. */
export interface RedisClientSettings {
  /** The password option, asked at every connect (a renewed one is used from the next on). */
  password: (() => Promise<string>) | undefined;
  connectTimeoutMs: number;
  tls: ConnectionOptions | undefined;
  /** The delay before reconnect attempt `retries`; default `reconnectDelayMs`. */
  reconnectStrategy?: (retries: number, cause?: unknown) => number;
}

/** node-redis's login, asked at each connect: the user, and the password option or else the URL's. */
function credentialsProvider(username: string | undefined, password: () => Promise<string | undefined>) {
  return {
    type: 'async-credentials-provider' as const,
    credentials: async () => {
      const secret = await password();
      return {
        ...(username === undefined ? {} : { username }),
        ...(secret === undefined ? {} : { password: secret }),
      };
    },
  };
}

export function createStandaloneClient(
  url: string,
  { password, connectTimeoutMs, tls, reconnectStrategy }: RedisClientSettings,
) {
  const target = new URL(url);
  const username = target.username === '' ? undefined : decodeURIComponent(target.username);
  const inUrl = target.password === '' ? undefined : decodeURIComponent(target.password);
  // The login goes to node-redis's provider alone: from a URL it took the user without the password
  // option (NOAUTH on a server that wants both), and it would ask no one again after a rotation.
  target.username = '';
  target.password = '';
  const login = password ?? ((): Promise<string | undefined> => Promise.resolve(inUrl));
  return createClient({
    url: target.toString(),
    ...(username === undefined && inUrl === undefined && password === undefined
      ? {}
      : { credentialsProvider: credentialsProvider(username, login) }),
    disableOfflineQueue: true,
    // guard() owns deadlines; node-redis's own per-command timer would cost a timer per call.
    commandOptions: { timeout: 0 },
    socket: {
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: reconnectStrategy ?? reconnectDelayMs,
      ...(tls === undefined ? {} : { tls: true as const, ...tls }),
    },
  });
}

export function createClusterClient(
  cluster: RedisClusterSettings,
  { password, connectTimeoutMs, tls, reconnectStrategy }: RedisClientSettings,
) {
  const socket = {
    connectTimeout: connectTimeoutMs,
    reconnectStrategy: reconnectStrategy ?? reconnectDelayMs,
  };
  return createCluster({
    rootNodes: cluster.nodes.map((node) => {
      const colon = node.lastIndexOf(':');
      return { socket: { host: node.slice(0, colon), port: Number(node.slice(colon + 1)) } };
    }),
    // Every node connection, the discovered ones included, is made from these.
    defaults: {
      ...(cluster.username === undefined && password === undefined
        ? {}
        : {
            credentialsProvider: credentialsProvider(
              cluster.username,
              password ?? ((): Promise<undefined> => Promise.resolve(undefined)),
            ),
          }),
      disableOfflineQueue: true,
      socket: cluster.tls ? { ...socket, tls: true as const, ...tls } : socket,
    },
    commandOptions: { timeout: 0 },
    topologyRefreshOnReconnectionAttemptStrategy: topologyRefreshAfterMs,
  });
}

export type RedisStandaloneClient = ReturnType<typeof createStandaloneClient>;
export type RedisClusterClient = ReturnType<typeof createClusterClient>;
/** node-redis's client for one server, or its cluster client: both take the same commands. */
export type RedisClient = RedisStandaloneClient | RedisClusterClient;
