// A minute of scripts/soak.ts: the example service on Redis, Kafka and PostgreSQL under mixed
// load, its memory and descriptors sampled. Looser than the ten-minute run (`node scripts/soak.ts
// --minutes 10`): a minute is mostly the V8 heap finding its size, so this catches gross leaks
// (a descriptor or a few KB per request), errors under plain load, and an unclean shutdown.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { findKafka, findPostgres, findRedis } from '../support/servers.ts';

const [redis, kafka, postgres] = await Promise.all([findRedis(), findKafka(), findPostgres()]);
const missing = [redis, kafka, postgres].find((server) => 'skip' in server);

describe('soak, short', { skip: missing && 'skip' in missing ? missing.skip : false }, () => {
  it(
    'a minute of mixed load: no error, descriptors and memory flat, clean shutdown',
    { timeout: 240_000 },
    async () => {
      if ('skip' in redis || 'skip' in kafka || 'skip' in postgres) return;
      const run = promisify(execFile);
      const args = ['--seconds', '60', '--sample-seconds', '5', '--rss-tolerance', '0.5', '--fd-slack', '10'];
      const result = await run(
        process.execPath,
        [join(import.meta.dirname, '..', '..', 'scripts', 'soak.ts'), ...args],
        {
          env: {
            ...process.env,
            REDIS_URL: redis.url,
            KAFKA_BROKERS: kafka.brokers.join(','),
            POSTGRES_URL: postgres.url,
          },
          timeout: 220_000,
        },
      ).catch((error: { stdout?: string; stderr?: string; message: string }) => {
        assert.fail(`soak failed: ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`);
      });
      process.stderr.write(result.stdout);
      assert.match(result.stdout, /^verdict: FLAT$/m);
      assert.match(result.stdout, /, 0 errors; shutdown: exit 0$/m);
      const samples = result.stdout.match(/^t=\s*\d+s rss=/gm) ?? [];
      assert.ok(samples.length >= 10, `only ${samples.length} samples`);
    },
  );
});
