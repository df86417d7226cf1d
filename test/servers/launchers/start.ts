// `up` under the lock: reuse what answers, install what is missing, start the foreground
// command detached with its output in the state folder's log, wait until it answers.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { HOST, log, type ServiceContext, type ServiceDefinition } from './definition.ts';
import { which } from './machine.ts';
import { portAccepts } from './probes.ts';
import { isAlive, runningPid, terminate } from './processes.ts';

/** Resolves the service's env once it answers; the caller holds the state folder's lock. */
export async function startLocked(
  def: ServiceDefinition,
  ctx: ServiceContext,
): Promise<Record<string, string>> {
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
  }
  fs.rmSync(ctx.pidFile, { force: true });

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

  await installIfMissing(def, ctx);
  const childPid = await spawnDetached(def, ctx);
  if (await waitUntilAnswers(def, ctx, childPid)) {
    log(`${ctx.name}: answering (pid ${childPid})`);
    return def.env(ctx);
  }
  const alive = isAlive(childPid);
  if (alive) await terminate(childPid, def.stopTimeoutMs);
  fs.rmSync(ctx.pidFile, { force: true });
  throw new Error(
    `${ctx.name}: ${alive ? `did not answer within ${def.startTimeoutMs} ms` : 'exited during start'}; ` +
      `last lines of ${ctx.logFile}:\n${tail(ctx.logFile, 20)}`,
  );
}

async function installIfMissing(def: ServiceDefinition, ctx: ServiceContext): Promise<void> {
  if (def.install.isInstalled()) return;
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

/** Starts the foreground command detached, output to the log; writes and resolves its pid. */
async function spawnDetached(def: ServiceDefinition, ctx: ServiceContext): Promise<number> {
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
  return child.pid;
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

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
