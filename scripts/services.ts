/**
 * Real servers for the tests, without Docker.
 *
 *   npm run services -- up <name...>     install if needed, start, wait until it answers, print its env
 *   npm run services -- down [name...]   stop what this script started (all services without a name)
 *   npm run services -- status           one line per known service
 *   npm run services -- env [name...]    print the env of the running services (all without a name)
 *
 * stdout carries only `KEY=value` lines (for `export $(npm run -s services -- env)` or
 * `set -a; eval "$(npm run -s services -- env)"; set +a`), except for `status`; human messages
 * go to stderr.
 *
 * Each service keeps its working dir, log and pidfile in a state folder outside the repo:
 * `$BERTH_SERVICES_DIR/<name>/`, else `${XDG_CACHE_HOME:-~/.cache}/berth/services/<name>/`.
 * `up` is idempotent and safe to call from several processes at once (a lock dir in the
 * state folder serialises install and start).
 *
 * A new service is a definition in scripts/services/<name>.ts, listed in the `services` table below: how to install it, how to start
 * it in the foreground (this script detaches it and writes the pidfile), how to check it
 * answers, and the env vars it provides.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cassandra } from './services/cassandra.ts';
import { kafka } from './services/kafka.ts';
import { kafkaCluster } from './services/kafka-cluster.ts';
import { keyvault } from './services/keyvault.ts';
import { mongodb } from './services/mongodb.ts';
import { mssql } from './services/mssql.ts';
import { postgres } from './services/postgres.ts';
import { redis } from './services/redis.ts';
import { redisCluster } from './services/redis-cluster.ts';
import { toxiproxy } from './services/toxiproxy.ts';
import {
  cacheHome,
  HOST,
  log,
  portAccepts,
  type ServiceContext,
  type ServiceDefinition,
  which,
} from './services/support.ts';

export {
  aptInstaller,
  respPing,
  which,
  type Installer,
  type ServiceContext,
  type ServiceDefinition,
} from './services/support.ts';

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

export const services: Readonly<Record<string, ServiceDefinition>> = {
  redis,
  'redis-cluster': redisCluster,
  keyvault,
  mongodb,
  kafka,
  'kafka-cluster': kafkaCluster,
  cassandra,
  mssql,
  postgres,
  toxiproxy,
};

// ---------------------------------------------------------------------------------------------
// Public API for tests
// ---------------------------------------------------------------------------------------------

/** True when this machine can provide the service: installed already, or installable here. */
export function canProvide(name: string): boolean {
  const def = services[name];
  if (!def) return false;
  return def.install.isInstalled() || def.install.canInstall();
}

/** Installs and starts the service if needed, waits until it answers, returns its env. */
export async function ensureService(name: string): Promise<Record<string, string>> {
  const def = definition(name);
  const ctx = context(name, def);
  const release = await acquireLock(ctx);
  try {
    return await upLocked(def, ctx);
  } finally {
    release();
  }
}

/** Stops the service if this script started it. Resolves true when a process was stopped. */
export async function stopService(name: string): Promise<boolean> {
  const def = definition(name);
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

/** The env of the service when it is running and answering, else undefined. Never starts it. */
export async function serviceEnv(name: string): Promise<Record<string, string> | undefined> {
  const def = definition(name);
  const ctx = context(name, def);
  if (runningPid(def, ctx) === undefined) return undefined;
  return (await def.answers(ctx)) ? def.env(ctx) : undefined;
}

/** The state folder of a service. */
export function stateDir(name: string): string {
  const base = process.env['BERTH_SERVICES_DIR'] || path.join(cacheHome(), 'berth', 'services');
  return path.join(base, name);
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

async function upLocked(def: ServiceDefinition, ctx: ServiceContext): Promise<Record<string, string>> {
  const pid = runningPid(def, ctx);
  if (pid !== undefined) {
    if (await def.answers(ctx)) {
      log(`${ctx.name}: already running (pid ${pid}) on ${HOST}:${ctx.port}`);
      return def.env(ctx);
    }
    // Started by us but not answering: maybe still starting (another process died holding
    // the lock), maybe hung. Give it the start timeout, then replace it.
    if (await waitUntilAnswers(def, ctx, pid)) return def.env(ctx);
    log(`${ctx.name}: pid ${pid} does not answer; restarting it`);
    await terminate(pid, def.stopTimeoutMs);
    fs.rmSync(ctx.pidFile, { force: true });
  } else {
    fs.rmSync(ctx.pidFile, { force: true });
  }

  if (await portAccepts(HOST, ctx.port)) {
    if (await def.answers(ctx)) {
      log(
        `${ctx.name}: ${HOST}:${ctx.port} already answers but was not started by this script ` +
          `(no live pidfile in ${ctx.dir}); using it, \`down\` will not stop it`,
      );
      return def.env(ctx);
    }
    throw new Error(
      `${ctx.name}: port ${ctx.port} on ${HOST} is in use by something else; ` +
        `choose another port (e.g. BERTH_${ctx.name.toUpperCase()}_PORT)`,
    );
  }

  if (!def.install.isInstalled()) {
    if (!def.install.canInstall()) {
      throw new Error(
        `${ctx.name}: not installed, and this machine cannot install it (${def.install.describe}); ` +
          `install it by hand, or point the tests at a server via its env var`,
      );
    }
    log(`${ctx.name}: installing (${def.install.describe})`);
    await def.install.install(ctx);
    if (!def.install.isInstalled()) {
      throw new Error(`${ctx.name}: ${def.install.describe} finished but the service is still not installed`);
    }
  }

  const { command, args, env } = def.command(ctx);
  const executable = which(command) ?? command;
  log(`${ctx.name}: starting on ${HOST}:${ctx.port} (state and log in ${ctx.dir})`);
  const logFd = fs.openSync(ctx.logFile, 'a');
  let child;
  try {
    fs.writeSync(logFd, `\n--- ${new Date().toISOString()} ${executable} ${args.join(' ')}\n`);
    child = spawn(executable, args, {
      cwd: ctx.dir,
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, ...env },
    });
  } finally {
    fs.closeSync(logFd);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  child.unref();
  if (child.pid === undefined) {
    throw new Error(`${ctx.name}: could not start ${executable}: ${(await spawnError).message}`);
  }
  fs.writeFileSync(ctx.pidFile, `${child.pid}\n`);

  if (await waitUntilAnswers(def, ctx, child.pid)) {
    log(`${ctx.name}: answering (pid ${child.pid})`);
    return def.env(ctx);
  }
  const alive = isAlive(child.pid);
  if (alive) await terminate(child.pid, def.stopTimeoutMs);
  fs.rmSync(ctx.pidFile, { force: true });
  throw new Error(
    `${ctx.name}: ${alive ? `did not answer within ${def.startTimeoutMs} ms` : 'exited during start'}; ` +
      `last lines of ${ctx.logFile}:\n${tail(ctx.logFile, 20)}`,
  );
}

async function waitUntilAnswers(def: ServiceDefinition, ctx: ServiceContext, pid: number): Promise<boolean> {
  const deadline = Date.now() + def.startTimeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return false;
    if (await def.answers(ctx)) return true;
    await sleep(100);
  }
  return false;
}

/** The pid in the pidfile, when that process is alive and is the service's process. */
function runningPid(def: ServiceDefinition, ctx: ServiceContext): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(ctx.pidFile, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  const commandLine = processCommandLine(pid);
  if (commandLine !== undefined && !commandLine.includes(def.processMatch)) return undefined;
  return pid;
}

/** SIGTERM, then SIGKILL when it is still alive after `timeoutMs` (default 10 s). */
async function terminate(pid: number, timeoutMs = 10_000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  while (isAlive(pid)) await sleep(50);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) still accepts signal 0.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** `/proc/<pid>/cmdline`, or undefined where there is no /proc. */
function processCommandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Lock: a directory created atomically with mkdir, holding the owner's pid
// ---------------------------------------------------------------------------------------------

const LOCK_WAIT_MS = 10 * 60_000; // long enough for an apt-get install on a slow machine

async function acquireLock(ctx: ServiceContext): Promise<() => void> {
  const lockDir = path.join(ctx.dir, 'lock');
  const ownerFile = path.join(lockDir, 'owner');
  const me = `${process.pid}`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(ownerFile, `${me}\n`);
      return () => {
        try {
          if (fs.readFileSync(ownerFile, 'utf8').trim() === me)
            fs.rmSync(lockDir, { recursive: true, force: true });
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (lockIsStale(lockDir, ownerFile)) {
      // Its owner died holding it. Move it aside (atomic) and look again: when another waiter
      // took it over in between, what we moved is that waiter's live lock, so put it back.
      const aside = `${lockDir}.stale-${process.pid}-${Date.now()}`;
      try {
        fs.renameSync(lockDir, aside);
        if (lockIsStale(aside, path.join(aside, 'owner'))) fs.rmSync(aside, { recursive: true, force: true });
        else fs.renameSync(aside, lockDir);
      } catch {
        // someone else moved it first
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${ctx.name}: waited ${LOCK_WAIT_MS / 1000} s for the lock ${lockDir}; remove it if stale`,
      );
    }
    if (!announced) {
      log(`${ctx.name}: waiting for another process that is starting it`);
      announced = true;
    }
    await sleep(100 + Math.random() * 100);
  }
}

function lockIsStale(lockDir: string, ownerFile: string): boolean {
  try {
    const owner = Number.parseInt(fs.readFileSync(ownerFile, 'utf8').trim(), 10);
    if (Number.isInteger(owner) && owner > 0) return !isAlive(owner);
  } catch {
    // no owner yet: the holder is between mkdir and writeFile, or died there
  }
  try {
    return Date.now() - fs.statSync(lockDir).mtimeMs > 10_000;
  } catch {
    return false; // gone already
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function definition(name: string): ServiceDefinition {
  const def = services[name];
  if (!def) throw new Error(`unknown service '${name}'; known: ${Object.keys(services).join(', ')}`);
  return def;
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

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function formatEnv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([key, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || /[\s'"`$\\]/.test(value)) {
        throw new Error(`env ${key}=${value} cannot be printed safely for the shell`);
      }
      return `${key}=${value}\n`;
    })
    .join('');
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

const USAGE = `usage: npm run services -- <command>
  up <name...>      install if needed, start, wait until it answers, print its env (KEY=value)
  down [name...]    stop what this script started (all services without a name)
  status            state of every known service
  env [name...]     print the env of running services (all without a name)
services: ${Object.keys(services).join(', ')}
state: ${path.dirname(stateDir('x'))} (BERTH_SERVICES_DIR)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const names = rest.length > 0 && !(rest.length === 1 && rest[0] === 'all') ? rest : Object.keys(services);
  for (const name of rest) if (name !== 'all') definition(name);
  switch (command) {
    case 'up': {
      if (rest.length === 0) {
        log('up: name the services to start, e.g. `up redis` (or `up all`)');
        return 2;
      }
      let output = '';
      for (const name of names) output += formatEnv(await ensureService(name));
      process.stdout.write(output);
      return 0;
    }
    case 'down': {
      for (const name of names) {
        const pid = runningPid(definition(name), context(name, definition(name)));
        const stopped = await stopService(name);
        log(`${name}: ${stopped ? `stopped (pid ${pid})` : 'not running'}`);
      }
      return 0;
    }
    case 'status': {
      for (const name of Object.keys(services)) {
        const def = definition(name);
        const ctx = context(name, def);
        const pid = runningPid(def, ctx);
        const answering = await def.answers(ctx);
        let state: string;
        if (pid !== undefined) state = `running (pid ${pid}), ${answering ? 'answering' : 'NOT answering'}`;
        else if (answering) state = 'stopped here, but something else answers on its port';
        else state = 'stopped';
        const provide = def.install.isInstalled()
          ? 'installed'
          : canProvide(name)
            ? 'installable'
            : 'unavailable';
        const env = Object.entries(def.env(ctx))
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
        process.stdout.write(`${name}: ${state}; ${provide}; ${env}; state ${ctx.dir}\n`);
      }
      return 0;
    }
    case 'env': {
      let output = '';
      let missing = 0;
      for (const name of names) {
        const env = await serviceEnv(name);
        if (env) output += formatEnv(env);
        else if (rest.length > 0) {
          log(`${name}: not running (start it with \`npm run services -- up ${name}\`)`);
          missing++;
        }
      }
      process.stdout.write(output);
      return missing > 0 ? 1 : 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stderr.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command '${command}'\n${USAGE}\n`);
      return 2;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      log(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
