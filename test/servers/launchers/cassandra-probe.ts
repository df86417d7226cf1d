// Asking a Cassandra node over CQL with cassandra-driver: its data center (how `answers` knows it
// serves), over TLS and as a user where the node wants them, and the statements a secure node
// runs once it answers (its login role).
import fs from 'node:fs';
import path from 'node:path';
import type { ClientOptions } from 'cassandra-driver';
import { log, type ServiceContext } from './definition.ts';

let driverMissing = false;

/** How to reach a secure node: node's TLS options and a login. */
export interface CqlAccess {
  readonly sslOptions?: ClientOptions['sslOptions'];
  readonly credentials?: { readonly username: string; readonly password: string };
}

/**
 * Connects with cassandra-driver (protocol v4, one connection), reads the node's data center from
 * `system.local`, runs `statements`, and disconnects. Rejects when the node does not answer CQL
 * within the timeout.
 */
export async function cqlDatacenter(
  host: string,
  port: number,
  timeoutMs = 5000,
  access: CqlAccess = {},
  statements: readonly string[] = [],
): Promise<string> {
  let driver: typeof import('cassandra-driver');
  try {
    driver = await import('cassandra-driver');
  } catch (error) {
    if (!driverMissing) {
      driverMissing = true;
      log(`cassandra: cannot load cassandra-driver (npm install): ${(error as Error).message}`);
    }
    throw error;
  }
  const { Client, policies, types, auth } = driver;
  const client = new Client({
    contactPoints: [`${host}:${port}`],
    // No local data center to name yet: that is what this asks the node.
    policies: { loadBalancing: new policies.loadBalancing.RoundRobinPolicy() },
    protocolOptions: { port, maxVersion: types.protocolVersion.v4 },
    socketOptions: { connectTimeout: timeoutMs, readTimeout: timeoutMs },
    pooling: { coreConnectionsPerHost: { [types.distance.local]: 1, [types.distance.remote]: 0 } },
    isMetadataSyncEnabled: false,
    ...(access.sslOptions === undefined ? {} : { sslOptions: access.sslOptions }),
    ...(access.credentials === undefined
      ? {}
      : {
          authProvider: new auth.PlainTextAuthProvider(
            access.credentials.username,
            access.credentials.password,
          ),
        }),
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const query = (async () => {
      await client.connect();
      const result = await client.execute('SELECT data_center FROM system.local');
      const datacenter: unknown = result.first()?.get('data_center');
      if (typeof datacenter !== 'string' || datacenter === '') {
        throw new Error(`${host}:${port}: system.local has no data_center`);
      }
      for (const statement of statements) await client.execute(statement);
      return datacenter;
    })();
    query.catch(() => {}); // when the timeout wins, its later rejection is not unhandled
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no CQL answer from ${host}:${port} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
    await client.shutdown().catch(() => {});
  }
}

export function datacenterFile(ctx: ServiceContext): string {
  return path.join(ctx.dir, 'datacenter');
}

export function readDatacenter(ctx: ServiceContext): string | undefined {
  try {
    const text = fs.readFileSync(datacenterFile(ctx), 'utf8').trim();
    return /^[A-Za-z0-9_.-]+$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}
