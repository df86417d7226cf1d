// What a launcher declares (test/servers/services.ts runs it): how the service gets onto this
// machine, how it starts in the foreground, how to tell it answers, and the env it provides.

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

export function portFromEnv(variable: string, fallback: number): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${variable}=${text} is not a TCP port`);
  }
  return port;
}

/** Human messages go to stderr: stdout of `npm run services` carries only env lines. */
export function log(message: string): void {
  process.stderr.write(`[services] ${message}\n`);
}
