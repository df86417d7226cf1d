import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  killStartedProcesses,
  ownRedis,
  ownRedisSkipReason,
  startExampleService,
  statusOf as status,
} from '../support/example-service.ts';
import { findKafka } from '../support/servers.ts';
import { waitFor } from '../support/wait.ts';

const kafka = await findKafka();
after(killStartedProcesses);

async function greetedCount(base: string, name: string, expected: number): Promise<boolean> {
  const body = (await (await fetch(`${base}/greeted/${name}`)).json()) as { count: number };
  return body.count === expected;
}

describe('example service (npm start)', () => {
  it('runs on memory adapters: probes, metrics, a cached endpoint, JSON logs, clean shutdown', async () => {
    const service = await startExampleService({ CACHE_DRIVER: 'memory' });
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
    assert.equal(await service.stop(), 0);
    const lines = service.output().trim().split('\n');
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not a pino JSON line: ${line}`);
    assert.ok(lines.some((line) => line.includes('"msg":"closed"')));
  });

  it('refuses to start on invalid configuration, naming the variable', async () => {
    const child = spawn(process.execPath, ['examples/service.ts'], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { ...process.env, CACHE_DRIVER: 'redis', REDIS_URL: 'http://u:topsecret@x' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1);
    assert.match(output, /REDIS_URL/);
    assert.equal(output.includes('topsecret'), false);
  });

  it(
    'on Redis: readiness turns 503 when Redis stops and 200 when it returns, without a restart',
    { skip: ownRedisSkipReason() },
    async () => {
      const redis = await ownRedis();
      try {
        await redis.start();
        const service = await startExampleService({
          CACHE_DRIVER: 'redis',
          REDIS_URL: redis.url,
          CACHE_TIMEOUT_MS: '300',
        });
        await waitFor('ready on Redis', async () => (await status(`${service.base}/readyz`)) === 200, 10_000);
        assert.equal(await status(`${service.base}/greet/grace`), 200);

        await redis.kill();
        const downIn = await waitFor(
          'readyz 503 after Redis stopped',
          async () => (await status(`${service.base}/readyz`)) === 503,
          5_000,
        );
        assert.equal(await status(`${service.base}/livez`), 200, 'liveness does not depend on Redis');

        await redis.start();
        const upIn = await waitFor(
          'readyz 200 after Redis returned',
          async () => (await status(`${service.base}/readyz`)) === 200,
          10_000,
        );
        assert.equal(await status(`${service.base}/greet/grace`), 200);
        process.stderr.write(
          `readyz went 503 ${Math.round(downIn)} ms after Redis stopped, 200 ${Math.round(upIn)} ms after it returned\n`,
        );
        assert.equal(await service.stop(), 0);
      } finally {
        await redis.dispose();
      }
    },
  );
  it(
    'on Kafka: a greeting publishes an event the subscription counts; readiness includes the broker',
    { skip: 'skip' in kafka ? kafka.skip : false },
    async () => {
      if ('skip' in kafka) return;
      const service = await startExampleService({
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
      assert.equal(await service.stop(), 0);
    },
  );
});
