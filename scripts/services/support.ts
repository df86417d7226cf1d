// Shared pieces of scripts/services.ts and its service definitions (scripts/services/*.ts).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Where one service lives on this machine. */
export interface ServiceContext {
  readonly name: string;
  /** State folder: working dir, log, pidfile, lock. */
  readonly dir: string;
  readonly pidFile: string;
  readonly logFile: string;
  /** The main port it listens on (127.0.0.1 only). */
  readonly port: number;
}

/** How a service gets onto this machine. */
export interface Installer {
  /** For messages, e.g. `apt-get install redis-server`. */
  readonly describe: string;
  isInstalled(): boolean;
  /** True when `install` can work here (e.g. root with apt-get). */
  canInstall(): boolean;
  install(ctx: ServiceContext): Promise<void>;
}

export interface ServiceDefinition {
  readonly install: Installer;
  /** The main port, after env overrides. */
  port(): number;
  /** The foreground command line; `up` runs it detached, logs to `ctx.logFile`, cwd `ctx.dir`. */
  command(ctx: ServiceContext): { command: string; args: string[]; env?: Record<string, string> };
  /** Resolves true when the server answers (never rejects). */
  answers(ctx: ServiceContext): Promise<boolean>;
  /** The env vars a test needs to reach it. Values must not contain whitespace or quotes. */
  env(ctx: ServiceContext): Record<string, string>;
  /** How long `up` waits for `answers` after starting it. */
  readonly startTimeoutMs: number;
  /** How long `down` waits after SIGTERM before SIGKILL; 10 s when absent. */
  readonly stopTimeoutMs?: number;
  /** A substring of the process's command line, so a recycled pid is never signalled. */
  readonly processMatch: string;
}

export const HOST = '127.0.0.1';

/**
 * Sends a raw RESP `PING` and resolves the first reply line (`+PONG` from a healthy redis,
 * `-NOAUTH …` from one that wants a password). Rejects on connection errors or timeout.
 */
export function respPing(host: string, port: number, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to PING from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(buffer.slice(0, end));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`${host}:${port} closed the connection before replying to PING`));
    });
  });
}

export function portAccepts(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

let aptUpdated = false;

/** Installer for services that come from Debian packages: `{ binary: package }`. */
export function aptInstaller(binaries: Readonly<Record<string, string>>): Installer {
  const packages = [...new Set(Object.values(binaries))];
  const installMissing = (): void => {
    const missing = [
      ...new Set(
        Object.entries(binaries)
          .filter(([binary]) => which(binary) === undefined)
          .map(([, pkg]) => pkg),
      ),
    ];
    if (missing.length === 0) return;
    const install = () =>
      run('apt-get', [
        '-o',
        'DPkg::Lock::Timeout=300',
        'install',
        '-y',
        '--no-install-recommends',
        ...missing,
      ]);
    if (install() === 0) return;
    if (!aptUpdated) {
      log(`apt-get install failed; running apt-get update once and retrying`);
      aptUpdated = true;
      if (run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update']) !== 0) {
        throw new Error('apt-get update failed (see above)');
      }
      if (install() === 0) return;
    }
    throw new Error(`apt-get install ${missing.join(' ')} failed (see above)`);
  };
  return {
    describe: `apt-get install ${packages.join(' ')}, as root`,
    isInstalled: () => Object.keys(binaries).every((binary) => which(binary) !== undefined),
    canInstall: () => isRoot() && which('apt-get') !== undefined,
    install: () => Promise.resolve().then(installMissing),
  };
}

/** Runs a command with its output on our stderr (stdout is reserved for env lines). */
function run(command: string, args: string[]): number {
  log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: ['ignore', process.stderr, process.stderr],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) {
    log(`${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Absolute path of an executable on PATH, else undefined. */
export function which(command: string): string | undefined {
  if (command.includes('/')) return isExecutable(command) ? command : undefined;
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export function cacheHome(): string {
  return process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
}

export function portFromEnv(variable: string, fallback: number): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${variable}=${text} is not a TCP port`);
  }
  return port;
}

export function log(message: string): void {
  process.stderr.write(`[services] ${message}\n`);
}
