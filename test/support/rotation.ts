// What the credential rotation tests share (#26): a mounted secrets folder the file store reads,
// the steady traffic of a running service with every failure kept, and a way to drop this
// process's connections where the server has no command to drop a user's.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isInfraError } from '../../src/ports/index.ts';
import { findServer, type Skip } from './servers.ts';

/** A folder with one file per secret, as Kubernetes mounts them (`SECRETS_DRIVER=file`). */
export interface SecretsFolder {
  readonly dir: string;
  /** Replaces a secret's file at once (a rename), as the kubelet swaps a mounted secret. */
  write(name: string, value: string): void;
  remove(): void;
}

export function secretsFolder(): SecretsFolder {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-rotation-'));
  return {
    dir,
    write(name, value) {
      const staged = path.join(dir, `.${name}.${randomBytes(4).toString('hex')}`);
      fs.writeFileSync(staged, `${value}\n`, { mode: 0o600 });
      fs.renameSync(staged, path.join(dir, name));
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** A password for one test: letters and digits, so no URL or config syntax needs escaping. */
export const newPassword = (label: string): string => `${label}${randomBytes(16).toString('hex')}`;

export interface CallFailure {
  /** Milliseconds since the traffic began. */
  readonly atMs: number;
  readonly reason: string;
  readonly message: string;
}

export interface TrafficResult {
  readonly calls: number;
  readonly failures: readonly CallFailure[];
  /** The slowest call, in ms. */
  readonly slowestMs: number;
}

/**
 * Calls `call` one after another, `pauseMs` apart, until `stop()`: a running service's traffic.
 * Every failure is kept with its reason.
 */
export function steadyTraffic(
  call: () => Promise<unknown>,
  pauseMs = 20,
): {
  stop(): Promise<TrafficResult>;
  /** Runs `fn` with no call in flight, the traffic held meanwhile. */
  between<T>(fn: () => Promise<T>): Promise<T>;
  readonly calls: number;
} {
  const started = performance.now();
  const failures: CallFailure[] = [];
  let calls = 0;
  let slowestMs = 0;
  let stopped = false;
  let held: Promise<unknown> | undefined;
  let idle: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      if (held !== undefined) {
        idle?.();
        await held.catch(() => undefined);
        continue;
      }
      const before = performance.now();
      try {
        await call();
      } catch (error) {
        failures.push({
          atMs: Math.round(before - started),
          reason: isInfraError(error) ? error.reason : 'not an InfraError',
          message: error instanceof Error ? error.message : String(error),
        });
      }
      calls++;
      slowestMs = Math.max(slowestMs, performance.now() - before);
      await sleep(pauseMs);
    }
  })();
  return {
    get calls() {
      return calls;
    },
    async stop() {
      stopped = true;
      await loop;
      return { calls, failures, slowestMs: Math.round(slowestMs) };
    },
    async between<T>(fn: () => Promise<T>): Promise<T> {
      let release: () => void = () => undefined;
      held = new Promise<void>((resolve) => (release = resolve));
      await new Promise<void>((resolve) => (idle = resolve));
      try {
        return await fn();
      } finally {
        held = undefined;
        idle = undefined;
        release();
      }
    },
  };
}

/**
 * Destroys this process's open TCP (and TLS) connections to `port`, as a network cut or a
 * restarted server would: for Kafka, which keeps a client's authenticated connections after its
 * password changed and has no command to drop them. Node lists its sockets only through
 * `process._getActiveHandles`, undocumented but there since 0.x. Returns how many were cut.
 */
export function cutConnectionsTo(port: number): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  let cut = 0;
  for (const handle of handles) {
    if (handle instanceof net.Socket && handle.remotePort === port && !handle.destroyed) {
      // As a reset reaches a client: an error, then close (a bare destroy() tells kafkajs nothing).
      handle.destroy(Object.assign(new Error('read ECONNRESET (cut by the test)'), { code: 'ECONNRESET' }));
      cut++;
    }
  }
  return cut;
}

/** redis-secure's admin user (`+@all`), which makes the tests' users and changes their passwords. */
export async function findRedisSecureAdmin(): Promise<{ url: string } | Skip> {
  const server = await findServer('redis (TLS, admin user)', {
    envVar: 'BERTH_REDIS_SECURE_ADMIN_URL',
    service: 'redis-secure',
  });
  return 'skip' in server ? server : { url: server.value };
}

/**
 * Sets `user`'s SCRAM-SHA-512 password through Kafka's admin API (AlterUserScramCredentials, KIP-554)
 * on `broker` (`host:port` of a listener that needs no login), salted here as the API wants it.
 */
export async function setScramPassword(broker: string, user: string, password: string): Promise<void> {
  const { Connection, alterUserScramCredentialsV0 } = await import('@platformatic/kafka');
  const connection = new Connection('berth-rotation-test');
  const colon = broker.lastIndexOf(':');
  await connection.connect(broker.slice(0, colon), Number(broker.slice(colon + 1)));
  try {
    const salt = randomBytes(32);
    const iterations = 4_096;
    const saltedPassword = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
    // 2 is SCRAM-SHA-512 in the protocol's mechanism numbers.
    const upsertion = { name: user, mechanism: 2, iterations, salt, saltedPassword };
    const response = await alterUserScramCredentialsV0.api.async(connection, [], [upsertion]);
    const failed = response.results.find((result) => result.errorCode !== 0);
    if (failed)
      throw new Error(`AlterUserScramCredentials: ${failed.errorCode} ${failed.errorMessage ?? ''}`);
  } finally {
    await connection.close();
  }
}
