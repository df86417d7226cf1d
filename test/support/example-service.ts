// The example service (examples/service.ts) as a child process, and a Redis of one test's own to
// stop and start under it, for tests that watch the service from outside.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { canProvide, which } from '../servers/services.ts';
import { freePort } from './ports.ts';
import { redisServerBinary, startRedisServer, type RedisServerProcess } from './redis-cluster.ts';
import { waitFor } from './wait.ts';

const root = join(import.meta.dirname, '..', '..');
const children = new Set<ChildProcess>();

/** Kills every process these helpers started that is still running; for `after()`. */
export function killStartedProcesses(): void {
  for (const child of children) child.kill('SIGKILL');
}

/** The status of a GET, 0 when nothing answered within 2 s. */
export async function statusOf(url: string): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status;
  } catch {
    return 0;
  }
}

function start(command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export interface ExampleService {
  readonly base: string;
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `examples/service.ts` on a free port with `env`; resolves once `/livez` answers 200. */
export async function startExampleService(env: Record<string, string>): Promise<ExampleService> {
  const port = await freePort();
  const child = start(process.execPath, ['examples/service.ts'], { PORT: String(port), ...env });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  // It listens once its infrastructure started (PGlite's start alone took 2-10 s on a busy VM).
  await waitFor(
    'the example service answers /livez',
    async () => (await statusOf(`${base}/livez`)) === 200,
    60_000,
  );
  return {
    base,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/** Why a test of a Redis of its own cannot run here, or false; under CI=true it never skips. */
export function ownRedisSkipReason(): string | false {
  if (which('redis-server') !== undefined) return false;
  if (process.env.CI === 'true' && canProvide('redis')) return false;
  return 'redis-server is not installed here: this test stops and starts a Redis of its own';
}

export interface OwnRedis {
  readonly url: string;
  /** Starts it (again) and waits for PONG. */
  start(): Promise<void>;
  /** SIGKILL: a crash, not a clean shutdown. */
  kill(): Promise<void>;
  /** Stops it for good. */
  dispose(): Promise<void>;
}

/** A redis-server on a free port of its own, without persistence. */
export async function ownRedis(): Promise<OwnRedis> {
  const binary = await redisServerBinary();
  assert.ok(binary.path !== undefined, binary.skip);
  const port = await freePort();
  let running: RedisServerProcess | undefined;
  const kill = async (): Promise<void> => {
    await running?.kill();
    running = undefined;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    start: async () => {
      running = await startRedisServer(binary.path!, port);
    },
    kill,
    dispose: kill,
  };
}
