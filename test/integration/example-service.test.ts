import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { canProvide, ensureService, respPing, which } from '../../scripts/services.ts';
import { findKafka } from '../support/servers.ts';

const kafka = await findKafka();

const root = join(import.meta.dirname, '..', '..');
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
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

async function status(url: string): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status;
  } catch {
    return 0;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, withinMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < withinMs) {
    if (await check()) return performance.now() - started;
    await sleep(100);
  }
  assert.fail(`${what}: not within ${withinMs} ms`);
}

async function startService(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; base: string; output: () => string }> {
  const port = await freePort();
  const child = start(process.execPath, ['examples/service.ts'], { PORT: String(port), ...env });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  // It listens once its infrastructure started (PGlite's start alone took 2-10 s on a busy VM).
  await waitFor('service answers /livez', async () => (await status(`${base}/livez`)) === 200, 60_000);
  return { child, base, output: () => output };
}

async function greetedCount(base: string, name: string, expected: number): Promise<boolean> {
  const body = (await (await fetch(`${base}/greeted/${name}`)).json()) as { count: number };
  return body.count === expected;
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

describe('example service (npm start)', () => {
  it('runs on memory adapters: probes, metrics, a cached endpoint, JSON logs, clean shutdown', async () => {
    const service = await startService({ CACHE_DRIVER: 'memory' });
    assert.equal(await status(`${service.base}/readyz`), 200);
    const first = (await (await fetch(`${service.base}/greet/ada`)).json()) as {
      greeting: string;
      at: string;
    };
    const second = (await (await fetch(`${service.base}/greet/ada`)).json()) as {
      greeting: string;
      at: string;
    };
    assert.equal(first.greeting, 'Hello, ada!');
    assert.equal(second.at, first.at, 'the second answer came from the cache');
    await waitFor(
      'both greetings counted from their events',
      () => greetedCount(service.base, 'ada', 2),
      5_000,
    );
    const metrics = await (await fetch(`${service.base}/metrics`)).text();
    assert.match(
      metrics,
      /db_client_operation_duration_seconds_count\{db_system_name="memory",component="cache:memory",db_operation_name="get"\} 2/,
    );
    assert.equal(await stop(service.child), 0);
    const lines = service.output().trim().split('\n');
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not a pino JSON line: ${line}`);
    assert.ok(lines.some((line) => line.includes('"msg":"closed"')));
  });

  it('refuses to start on invalid configuration, naming the variable', async () => {
    const child = start(process.execPath, ['examples/service.ts'], {
      CACHE_DRIVER: 'redis',
      REDIS_URL: 'http://u:topsecret@x',
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1);
    assert.match(output, /REDIS_URL/);
    assert.equal(output.includes('topsecret'), false);
  });

  const redisServer = which('redis-server');
  const skip =
    redisServer === undefined && !(process.env.CI === 'true' && canProvide('redis'))
      ? 'redis-server is not installed here: this test stops and restarts a Redis of its own'
      : false;

  it(
    'on Redis: readiness turns 503 when Redis stops and 200 when it returns, without a restart',
    { skip },
    async () => {
      if (which('redis-server') === undefined) await ensureService('redis');
      const binary = which('redis-server')!;
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'berth-redis-'));
      const redisArgs = [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ];
      const startRedis = async (): Promise<ChildProcess> => {
        const child = start(binary, redisArgs);
        await waitFor(
          'redis answers',
          async () => (await respPing('127.0.0.1', port, 500).catch(() => '')) === '+PONG',
          10_000,
        );
        return child;
      };
      let redis = await startRedis();
      const service = await startService({
        CACHE_DRIVER: 'redis',
        REDIS_URL: `redis://127.0.0.1:${port}`,
        CACHE_TIMEOUT_MS: '300',
      });
      await waitFor('ready on Redis', async () => (await status(`${service.base}/readyz`)) === 200, 10_000);
      assert.equal(await status(`${service.base}/greet/grace`), 200);

      redis.kill('SIGKILL');
      await once(redis, 'exit');
      const downIn = await waitFor(
        'readyz 503 after Redis stopped',
        async () => (await status(`${service.base}/readyz`)) === 503,
        5_000,
      );
      assert.equal(await status(`${service.base}/livez`), 200, 'liveness does not depend on Redis');

      redis = await startRedis();
      const upIn = await waitFor(
        'readyz 200 after Redis returned',
        async () => (await status(`${service.base}/readyz`)) === 200,
        10_000,
      );
      assert.equal(await status(`${service.base}/greet/grace`), 200);
      process.stderr.write(
        `readyz went 503 ${Math.round(downIn)} ms after Redis stopped, 200 ${Math.round(upIn)} ms after it returned\n`,
      );
      assert.equal(await stop(service.child), 0);
      redis.kill('SIGTERM');
    },
  );
  it(
    'on Kafka: a greeting publishes an event the subscription counts; readiness includes the broker',
    { skip: 'skip' in kafka ? kafka.skip : false },
    async () => {
      if ('skip' in kafka) return;
      const service = await startService({
        BROKER_DRIVER: 'kafka',
        KAFKA_BROKERS: kafka.brokers.join(','),
        HEALTH_DETAILS: 'true',
      });
      const name = `grace-${process.pid}-${Date.now()}`;
      assert.equal((await fetch(`${service.base}/greet/${name}`)).status, 200);
      await waitFor(
        'the greeting counted from its Kafka event',
        () => greetedCount(service.base, name, 1),
        30_000,
      );
      const health = (await (await fetch(`${service.base}/readyz`)).json()) as {
        checks: Record<string, { status: string }>;
      };
      assert.equal(health.checks['broker:kafka']?.status, 'up');
      assert.equal(await stop(service.child), 0);
    },
  );
});
