/**
 * How tests find the real servers they need (see ARCHITECTURE.md, "Tests"), in this order:
 *   1. an environment variable (`REDIS_URL`, …) naming a server that is already up;
 *   2. a local server that scripts/services.ts installs and starts, without Docker;
 *   3. Testcontainers, only when a Docker engine answers (the container stops at exit);
 *   4. otherwise `{ skip: reason }`, with the reason printed to stderr.
 * Under `CI=true`, when this machine can provide the server (scripts/services.ts
 * `canProvide`) but it could not be obtained, it throws instead of skipping.
 *
 * Each server is one `findServer` call; results are memoised per process.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { GenericContainer, StartedTestContainer } from 'testcontainers';
import { canProvide, ensureService } from '../../scripts/services.ts';

export interface ContainerRecipe {
  /** e.g. `redis:7-alpine`. */
  readonly image: string;
  /** The container port the tests connect to. */
  readonly port: number;
  /** The value of the server's env var, given the mapped host and port. */
  value(host: string, mappedPort: number): string;
  /** Extra settings (command, env, wait strategy) before start. */
  configure?(container: GenericContainer): GenericContainer;
}

export interface ServerOptions {
  /** The env var that names a running server, e.g. `REDIS_URL`; also the key read from the local service's env. */
  readonly envVar: string;
  /** Name in the scripts/services.ts table, when the project can run it locally without Docker. */
  readonly service?: string;
  /** How to run it with Testcontainers where a Docker engine answers. */
  readonly container?: ContainerRecipe;
}

export interface FoundServer {
  /** The value of `envVar` to connect with. */
  readonly value: string;
  readonly source: 'env' | 'local' | 'container';
}

export type Skip = { readonly skip: string };

const found = new Map<string, Promise<FoundServer | Skip>>();

/** Finds (or starts) a server; memoised per name for the life of the process. */
export function findServer(name: string, options: ServerOptions): Promise<FoundServer | Skip> {
  let result = found.get(name);
  if (!result) {
    result = locate(name, options);
    found.set(name, result);
  }
  return result;
}

export async function findRedis(): Promise<{ url: string } | Skip> {
  const server = await findServer('redis', {
    envVar: 'REDIS_URL',
    service: 'redis',
    container: {
      image: 'redis:7-alpine',
      port: 6379,
      value: (host, port) => `redis://${host}:${port}`,
    },
  });
  return 'skip' in server ? server : { url: server.value };
}

async function locate(name: string, options: ServerOptions): Promise<FoundServer | Skip> {
  const fromEnv = process.env[options.envVar];
  if (fromEnv) return { value: fromEnv, source: 'env' };

  const reasons: string[] = [`${options.envVar} is not set`];
  const providable = options.service !== undefined && canProvide(options.service);

  if (options.service !== undefined) {
    if (providable) {
      try {
        const env = await ensureService(options.service);
        const value = env[options.envVar];
        if (value) return { value, source: 'local' };
        reasons.push(`scripts/services.ts '${options.service}' gave no ${options.envVar}`);
      } catch (error) {
        reasons.push(`local ${options.service} failed: ${message(error)}`);
      }
    } else {
      reasons.push(`this machine cannot run ${options.service} locally (not installed, not installable)`);
    }
  }

  if (options.container) {
    const docker = await dockerEndpoint();
    if (docker) {
      try {
        return { value: await startContainer(options.container), source: 'container' };
      } catch (error) {
        reasons.push(`Testcontainers (${options.container.image}) failed: ${message(error)}`);
      }
    } else {
      reasons.push('no Docker engine answers (DOCKER_HOST, /var/run/docker.sock)');
    }
  }

  const reason = `no ${name} server: ${reasons.join('; ')}`;
  if (process.env['CI'] === 'true' && providable) {
    throw new Error(`${reason} (CI=true and this machine can provide ${name}: a skip would hide a failure)`);
  }
  process.stderr.write(`[servers] skip: ${reason}\n`);
  return { skip: reason };
}

// ---------------------------------------------------------------------------------------------
// Testcontainers
// ---------------------------------------------------------------------------------------------

const started: StartedTestContainer[] = [];

async function startContainer(recipe: ContainerRecipe): Promise<string> {
  // Imported only here: loading testcontainers costs time and wants a Docker engine.
  const { GenericContainer } = await import('testcontainers');
  let container = new GenericContainer(recipe.image).withExposedPorts(recipe.port);
  if (recipe.configure) container = recipe.configure(container);
  const running = await container.start();
  if (started.length === 0) {
    // Stop them when the test process runs out of work; Testcontainers' reaper (Ryuk)
    // removes them should the process die without getting here.
    process.once('beforeExit', () => {
      void Promise.allSettled(started.splice(0).map((c) => c.stop()));
    });
  }
  started.push(running);
  return recipe.value(running.getHost(), running.getMappedPort(recipe.port));
}

/** Where a Docker engine answers `GET /_ping`, else undefined. Takes at most ~1 s per candidate. */
export async function dockerEndpoint(timeoutMs = 1000): Promise<string | undefined> {
  const candidates: Array<net.NetConnectOpts> = [];
  const dockerHost = process.env['DOCKER_HOST'];
  if (dockerHost) {
    if (dockerHost.startsWith('unix://')) candidates.push({ path: dockerHost.slice('unix://'.length) });
    else if (dockerHost.startsWith('tcp://')) {
      const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
      candidates.push({ host: url.hostname, port: Number(url.port || 2375) });
    }
  } else {
    const runtimeDir = process.env['XDG_RUNTIME_DIR'];
    const paths = [
      '/var/run/docker.sock',
      ...(runtimeDir ? [path.join(runtimeDir, 'docker.sock')] : []),
      path.join(os.homedir(), '.docker', 'run', 'docker.sock'),
      path.join(os.homedir(), '.docker', 'desktop', 'docker.sock'),
    ];
    for (const socketPath of paths) if (fs.existsSync(socketPath)) candidates.push({ path: socketPath });
  }
  for (const candidate of candidates) {
    // With TLS (DOCKER_TLS_VERIFY) the plain HTTP ping cannot work: a TCP connect must do.
    const tls = 'port' in candidate && process.env['DOCKER_TLS_VERIFY'];
    if (await dockerPing(candidate, timeoutMs, Boolean(tls))) {
      return 'path' in candidate ? `unix://${candidate.path}` : `tcp://${candidate.host}:${candidate.port}`;
    }
  }
  return undefined;
}

function dockerPing(target: net.NetConnectOpts, timeoutMs: number, connectOnly: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(target);
    let reply = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => {
      if (connectOnly) done(true);
      else socket.write('GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n');
    });
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\r\n')) done(/^HTTP\/1\.[01] 200/.test(reply));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
