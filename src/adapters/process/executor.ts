import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants as fsConstants, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthResult } from '../../ports/component.ts';
import type { CommandRequest, Executor, ExecutorAdapter, StartedCommand } from '../../ports/executor.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import { processExecutorOptionsSchema, type ProcessExecutorOptions } from './options.ts';
import { backoffDelayMs, type BackoffPolicy } from '../../runtime/guard/backoff.ts';
import { guardExecutor } from '../../runtime/executor/guarded-executor.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { classifyProcessError } from './errors.ts';
import { groupAlive, signalGroup, track, untrack } from './process-group.ts';

type Exit = { exitCode: number | null; signal: NodeJS.Signals | null };

// How long to keep polling for a group's end after SIGKILL: a process in uninterruptible sleep dies late.
const reapAfterKillMs = 5_000;
// Polls for a group's end start fast, since most groups go with their leader.
const reapPollBackoff: BackoffPolicy = { initialDelayMs: 5, maxDelayMs: 50, jitter: 'none' };
const forwardedByTrue: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** One child and its process group (the child is the group's leader). */
class ProcessCommand implements StartedCommand {
  readonly pid: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly exited: Promise<Exit>;
  readonly #graceMs: number;
  #killAt: number | undefined = undefined;
  #killTimer: NodeJS.Timeout | undefined = undefined;
  #done = false;

  constructor(child: ChildProcess, pid: number, graceMs: number, forwarded: ReadonlySet<NodeJS.Signals>) {
    this.pid = pid;
    this.stdin = child.stdin;
    this.stdout = child.stdout;
    this.stderr = child.stderr;
    this.#graceMs = graceMs;
    track(pid, forwarded);
    this.exited = new Promise((resolve) => {
      child.once('exit', (exitCode, signal) => {
        void this.#reapGroup().then(() => {
          this.#done = true;
          clearTimeout(this.#killTimer);
          untrack(pid);
          resolve({ exitCode, signal });
        });
      });
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.#done) signalGroup(this.pid, signal);
  }

  terminate(): void {
    if (this.#done || this.#killAt !== undefined) return;
    this.#killAt = performance.now() + this.#graceMs;
    signalGroup(this.pid, 'SIGTERM');
    this.#killTimer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), this.#graceMs);
  }

  // The leader has exited; whatever is left of its group would be orphaned, so it goes too.
  async #reapGroup(): Promise<void> {
    for (let poll = 0; await groupAlive(this.pid); poll++) {
      this.terminate();
      if (performance.now() > this.#killAt! + reapAfterKillMs) return;
      await sleep(backoffDelayMs(reapPollBackoff, poll));
    }
  }
}

function startError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

async function isExecutableFile(path: string): Promise<boolean> {
  if (!(await isFile(path))) return false;
  return access(path, fsConstants.X_OK).then(
    () => true,
    () => false,
  );
}

/**
 * Finds the executable as a shell would, so a missing one fails before anything starts with a
 * message naming it. Relative PATH entries are skipped: they would depend on the working directory.
 */
async function resolveCommand(command: string, searchPath: string, cwd: string | undefined): Promise<string> {
  if (command.includes('/')) {
    const path = resolvePath(cwd ?? process.cwd(), command);
    if (await isExecutableFile(path)) return path;
    if (await isFile(path)) throw startError('EACCES', `permission denied: ${command} is not executable`);
    throw startError('ENOENT', `command not found: ${command}`);
  }
  let found: string | undefined;
  for (const dir of searchPath.split(':')) {
    if (!isAbsolute(dir)) continue;
    const candidate = join(dir, command);
    if (await isExecutableFile(candidate)) return candidate;
    if (found === undefined && (await isFile(candidate))) found = candidate;
  }
  if (found !== undefined) throw startError('EACCES', `permission denied: ${command} is not executable`);
  throw startError('ENOENT', `command not found: ${command}`);
}

async function checkDirectory(cwd: string): Promise<void> {
  const info = await stat(cwd).catch(() => undefined);
  if (info === undefined) throw startError('ENOENT', `working directory not found: ${cwd}`);
  if (!info.isDirectory()) throw startError('ENOTDIR', `working directory is not a directory: ${cwd}`);
}

function spawned(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException & { spawnargs?: unknown }): void => {
      child.off('spawn', onSpawn);
      // Node attaches the arguments, which may hold secrets, to the error.
      delete error.spawnargs;
      reject(error);
    };
    const onSpawn = (): void => {
      child.off('error', onError);
      // Later errors (a failed kill of a dead child) have no caller to reach.
      child.on('error', () => undefined);
      resolve(child.pid!);
    };
    child.once('error', onError);
    child.once('spawn', onSpawn);
  });
}

class ProcessExecutorAdapter implements ExecutorAdapter {
  readonly system = 'process';
  readonly #forwarded: ReadonlySet<NodeJS.Signals>;
  readonly #probeCommand: readonly string[];

  constructor(forwarded: ReadonlySet<NodeJS.Signals>, probeCommand: readonly string[]) {
    this.#forwarded = forwarded;
    this.#probeCommand = probeCommand;
  }

  async start(request: CommandRequest): Promise<StartedCommand> {
    if (request.cwd !== undefined) await checkDirectory(request.cwd);
    const file = request.shell
      ? '/bin/sh'
      : await resolveCommand(request.command, request.env.PATH ?? process.env.PATH ?? '', request.cwd);
    // With a shell, the arguments are the script's $1…, never part of its text.
    const args = request.shell ? ['-c', request.command, 'sh', ...request.args] : [...request.args];
    const child = spawn(file, args, {
      cwd: request.cwd,
      env: request.env,
      argv0: request.shell ? 'sh' : request.command,
      // Its own process group (and session), so the whole tree can be signalled at once.
      detached: true,
      stdio: [request.stdin, request.output, request.output],
      windowsHide: true,
    });
    const pid = await spawned(child).catch((error: NodeJS.ErrnoException) => {
      // The executable was found, so what is missing is what it needs to run.
      if (error.code === 'ENOENT') error.message = `cannot execute ${file}: its interpreter is missing`;
      throw error;
    });
    return new ProcessCommand(child, pid, request.killGraceMs, this.#forwarded);
  }

  async probe(signal: AbortSignal): Promise<HealthResult> {
    const [command = process.execPath, ...args] = this.#probeCommand;
    const file = await resolveCommand(command, process.env.PATH ?? '', undefined);
    const child = spawn(file, args, { detached: true, stdio: 'ignore', env: {}, windowsHide: true });
    const pid = await spawned(child);
    const exited = new Promise<Exit>((resolve) =>
      child.once('exit', (exitCode, exitSignal) => resolve({ exitCode, signal: exitSignal })),
    );
    const onAbort = (): boolean => signalGroup(pid, 'SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const exit = await exited;
      if (exit.exitCode === 0) return { status: 'up' };
      const how = exit.signal === null ? `exited with code ${exit.exitCode}` : `was killed by ${exit.signal}`;
      return { status: 'down', error: `probe command ${how}` };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  classifyError = classifyProcessError;

  // The port terminates and awaits every running command before this is called.
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Runs commands as local child processes (Linux and macOS): each in its own process group,
 * terminated as a whole on timeout, abort and close.
 */
export function createProcessExecutor(
  options: ProcessExecutorOptions = {},
  runtime: Runtime = defaultRuntime(),
): Executor {
  const parsed = parseOptions(processExecutorOptionsSchema, options, 'process executor options');
  const forwarded = new Set(
    parsed.forwardSignals === true
      ? forwardedByTrue
      : parsed.forwardSignals === false
        ? []
        : parsed.forwardSignals,
  );
  const adapter = new ProcessExecutorAdapter(forwarded, parsed.probeCommand ?? [process.execPath, '-e', '0']);
  return guardExecutor(adapter, parsed, runtime);
}
