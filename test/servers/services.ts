/**
 * Real servers for the tests, without Docker: the table of launchers (one definition a service in
 * launchers/<name>.ts) and the API tests, benches and the `npm run services` command line
 * (scripts/services.ts) use.
 *
 * Each service keeps its working dir, log and pidfile in a state folder outside the repo:
 * `$BERTH_SERVICES_DIR/<name>/`, else `${XDG_CACHE_HOME:-~/.cache}/berth/services/<name>/`.
 * `ensureService` is idempotent and safe to call from several processes at once (a lock dir in
 * the state folder serialises install and start).
 *
 * A new service is a definition in launchers/<name>.ts, listed in the `services` table below: how
 * to install it, how to start it in the foreground (`ensureService` detaches it and writes the
 * pidfile), how to check it answers, and the env vars it provides.
 */
import fs from 'node:fs';
import path from 'node:path';
import { cassandra, cassandraSecure } from './launchers/cassandra.ts';
import type { ServiceContext, ServiceDefinition } from './launchers/definition.ts';
import { kafka } from './launchers/kafka.ts';
import { kafka4 } from './launchers/kafka4.ts';
import { kafkaCluster } from './launchers/kafka-cluster.ts';
import { keyvault } from './launchers/keyvault.ts';
import { acquireLock } from './launchers/lock.ts';
import { cacheHome } from './launchers/machine.ts';
import { mongodb } from './launchers/mongodb.ts';
import { mssql, mssqlSecure } from './launchers/mssql.ts';
import { postgres, postgresSecure } from './launchers/postgres.ts';
import { runningPid, terminate } from './launchers/processes.ts';
import { redis } from './launchers/redis.ts';
import { redisCluster } from './launchers/redis-cluster.ts';
import { redisSecure } from './launchers/redis-secure.ts';
import { startLocked } from './launchers/start.ts';
import { toxiproxy } from './launchers/toxiproxy.ts';

export { aptInstaller } from './launchers/apt-installer.ts';
export type { Installer, ServiceContext, ServiceDefinition } from './launchers/definition.ts';
export { which } from './launchers/machine.ts';
export { respPing } from './launchers/probes.ts';

export const services: Readonly<Record<string, ServiceDefinition>> = {
  redis,
  'redis-cluster': redisCluster,
  'redis-secure': redisSecure,
  keyvault,
  mongodb,
  kafka,
  kafka4,
  'kafka-cluster': kafkaCluster,
  cassandra,
  'cassandra-secure': cassandraSecure,
  mssql,
  'mssql-secure': mssqlSecure,
  postgres,
  'postgres-secure': postgresSecure,
  toxiproxy,
};

/** What `npm run services -- status` prints for one service. */
export interface ServiceStatus {
  /** The pid this machinery started, when it is alive. */
  readonly pid: number | undefined;
  /** Something answers on its port (started here or not). */
  readonly answering: boolean;
  readonly provide: 'installed' | 'installable' | 'unavailable';
  readonly env: Record<string, string>;
  readonly dir: string;
}

/** The definition of a known service; throws naming the known ones otherwise. */
export function serviceDefinition(name: string): ServiceDefinition {
  const def = services[name];
  if (!def) throw new Error(`unknown service '${name}'; known: ${Object.keys(services).join(', ')}`);
  return def;
}

/** True when this machine can provide the service: installed already, or installable here. */
export function canProvide(name: string): boolean {
  const def = services[name];
  if (!def) return false;
  return def.install.isInstalled() || def.install.canInstall();
}

/** Installs and starts the service if needed, waits until it answers, returns its env. */
export async function ensureService(name: string): Promise<Record<string, string>> {
  const def = serviceDefinition(name);
  const ctx = context(name, def);
  const release = await acquireLock(ctx);
  try {
    return await startLocked(def, ctx);
  } finally {
    release();
  }
}

/** Stops the service if this machinery started it. Resolves true when a process was stopped. */
export async function stopService(name: string): Promise<boolean> {
  const def = serviceDefinition(name);
  const ctx = context(name, def);
  const release = await acquireLock(ctx);
  try {
    const pid = runningPid(def, ctx);
    if (pid === undefined) {
      fs.rmSync(ctx.pidFile, { force: true });
      return false;
    }
    await terminate(pid, def.stopTimeoutMs);
    fs.rmSync(ctx.pidFile, { force: true });
    return true;
  } finally {
    release();
  }
}

/** The pid of the service's process when this machinery started it and it is alive. */
export function servicePid(name: string): number | undefined {
  const def = serviceDefinition(name);
  return runningPid(def, context(name, def));
}

/** The env of the service when it is running and answering, else undefined. Never starts it. */
export async function serviceEnv(name: string): Promise<Record<string, string> | undefined> {
  const def = serviceDefinition(name);
  const ctx = context(name, def);
  if (runningPid(def, ctx) === undefined) return undefined;
  return (await def.answers(ctx)) ? def.env(ctx) : undefined;
}

export async function serviceStatus(name: string): Promise<ServiceStatus> {
  const def = serviceDefinition(name);
  const ctx = context(name, def);
  const pid = runningPid(def, ctx);
  const answering = await def.answers(ctx);
  const provide = def.install.isInstalled() ? 'installed' : canProvide(name) ? 'installable' : 'unavailable';
  return { pid, answering, provide, env: def.env(ctx), dir: ctx.dir };
}

/** The state folder of a service. */
export function stateDir(name: string): string {
  const base = process.env['BERTH_SERVICES_DIR'] || path.join(cacheHome(), 'berth', 'services');
  return path.join(base, name);
}

function context(name: string, def: ServiceDefinition): ServiceContext {
  const dir = stateDir(name);
  fs.mkdirSync(dir, { recursive: true });
  return {
    name,
    dir,
    pidFile: path.join(dir, `${name}.pid`),
    logFile: path.join(dir, `${name}.log`),
    port: def.port(),
  };
}
