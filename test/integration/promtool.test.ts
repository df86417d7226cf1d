// The example service's /metrics, linted by Prometheus' own `promtool check metrics` (Debian
// package `prometheus`), with every family of the README's metrics table present.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { killStartedProcesses, startExampleService } from '../support/example-service.ts';
import { findRedis } from '../support/servers.ts';
import { waitFor } from '../support/wait.ts';

// prom-client's default Node metrics (collectDefaultMetrics, which the example turns on) name
// three gauges with a `_total` suffix; these lines are prom-client's, not berth's.
const promClientLintLines = new Set(
  ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'].map(
    (name) => `${name} non-counter metrics should not have "_total" suffix`,
  ),
);

// The families the example service's traffic (a cached greeting, its event, its count) fills.
const usedByTheExample = [
  'db_client_operation_duration_seconds',
  'messaging_client_operation_duration_seconds',
  'messaging_client_sent_messages_total',
  'messaging_client_consumed_messages_total',
  'messaging_process_duration_seconds',
  'berth_messaging_handled_messages_total',
  'berth_messaging_consumer_lag_messages',
  'berth_circuit_breaker_state',
  'berth_operation_retries_total',
];

function promtoolSkipReason(): string | false {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (found.error === undefined && found.status === 0) return false;
  if (process.env.CI === 'true')
    throw new Error('promtool is missing under CI=true: .ci/run installs Debian package prometheus');
  return 'promtool is not installed (apt-get install prometheus)';
}

/** The metric families the README's table lists, read from the table itself. */
function readmeFamilies(): string[] {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('### Metrics'));
  return [...table.matchAll(/^\| `([a-z_]+)`/gm)].map((match) => match[1]!);
}

const redis = await findRedis();
const skip = promtoolSkipReason() || ('skip' in redis ? redis.skip : false);

describe('promtool check metrics on the example service', { skip }, () => {
  after(() => killStartedProcesses());

  it("passes, but for prom-client's own three lines, with every family of the README present", async () => {
    assert.ok(!('skip' in redis));
    const service = await startExampleService({
      CACHE_DRIVER: 'redis',
      REDIS_URL: redis.url,
    });
    try {
      const name = `promtool-${process.pid}`;
      assert.equal((await fetch(`${service.base}/greet/${name}`)).status, 200);
      // The subscription counts the greeting: consume-side families have series once it did.
      await waitFor(
        'the greeting is consumed',
        async () => {
          const body = (await (await fetch(`${service.base}/greeted/${name}`)).json()) as { count: number };
          return body.count >= 1;
        },
        30_000,
      );
      const text = await (await fetch(`${service.base}/metrics`)).text();
      const checked = spawnSync('promtool', ['check', 'metrics'], {
        input: text,
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(checked.error, undefined);
      const complaints = `${checked.stdout}${checked.stderr}`
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.length > 0);
      const berths = complaints.filter((line) => !promClientLintLines.has(line));
      assert.deepEqual(berths, [], `promtool complaints:\n${complaints.join('\n')}`);
      // 0: clean; 3: lint problems only (prom-client's above); 1 would be a text it cannot parse.
      assert.ok(checked.status === 0 || checked.status === 3, `promtool exited ${checked.status}`);

      // Every family berth exposes is in the README's table, and what the example uses is exposed.
      const listed = new Set(readmeFamilies());
      const exposed = [...text.matchAll(/^# TYPE ([a-z_]+) /gm)]
        .map((match) => match[1]!)
        .filter((family) => !family.startsWith('nodejs_') && !family.startsWith('process_'));
      assert.deepEqual(
        exposed.filter((family) => !listed.has(family)),
        [],
        'families missing from the README',
      );
      for (const family of usedByTheExample) assert.ok(exposed.includes(family), `${family} is not exposed`);
      const { port } = new URL(redis.url);
      assert.match(
        text,
        new RegExp(
          `^db_client_operation_duration_seconds_count\\{db_system_name="redis",server_address="[^"]+",server_port="${port || 6379}",db_namespace="0",component="cache:redis",db_operation_name="get"\\} [1-9]`,
          'm',
        ),
      );
      // Messaging: sends by destination with the messaging buckets, deliveries with the required attributes.
      assert.match(
        text,
        /^messaging_client_operation_duration_seconds_bucket\{messaging_system="memory",[^}]*messaging_operation_name="publish",messaging_operation_type="send",messaging_destination_name="greeted",le="0.075"\} [1-9]/m,
      );
      assert.match(
        text,
        /^messaging_client_consumed_messages_total\{messaging_system="memory",messaging_operation_name="receive",messaging_destination_name="greeted",messaging_consumer_group_name="example-greeting-counter",component="broker:memory"\} [1-9]/m,
      );
      assert.match(
        text,
        /^berth_messaging_consumer_lag_messages\{[^}]*messaging_destination_name="greeted",messaging_destination_partition_id="\d",messaging_consumer_group_name="example-greeting-counter"[^}]*\} 0$/m,
      );
    } finally {
      await service.stop();
    }
  });
});
