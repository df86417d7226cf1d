import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createLogger, createRuntime, Guard, semconv } from '../../src/runtime/index.ts';
import { serverOfHostPort, serverOfRedis, serverOfUrl } from '../../src/runtime/telemetry/server-info.ts';

describe('server.address, server.port and db.namespace of an adapter', () => {
  it('reads host, port and database from a URL, never its credentials', () => {
    const server = serverOfUrl('postgres://app:s3cret@db.internal:6543/orders?sslmode=require', 5432);
    assert.deepEqual(server, { address: 'db.internal', port: 6543, namespace: 'orders' });
    assert.ok(!JSON.stringify(server).includes('s3cret'));
  });

  it("uses the scheme's or the backend's default port, and the first host of a list", () => {
    assert.deepEqual(serverOfUrl('https://api.openai.com/v1'), {
      address: 'api.openai.com',
      port: 443,
      namespace: 'v1',
    });
    assert.deepEqual(
      serverOfUrl('mongodb://u:p@a.example:27017,b.example:27018/?replicaSet=rs', 27017, 'app'),
      {
        address: 'a.example',
        port: 27017,
        namespace: 'app',
      },
    );
    assert.deepEqual(serverOfUrl('mssql://sa:x@[::1]/berth', 1433), {
      address: '::1',
      port: 1433,
      namespace: 'berth',
    });
    assert.equal(serverOfUrl('not a url', 1), undefined);
  });

  it('reads host:port, and a Redis database index (0 when absent or on a cluster)', () => {
    assert.deepEqual(serverOfHostPort('127.0.0.1:19092'), {
      address: '127.0.0.1',
      port: 19092,
      namespace: undefined,
    });
    assert.deepEqual(serverOfRedis({ url: 'redis://:pw@cache:6380/3' }), {
      address: 'cache',
      port: 6380,
      namespace: '3',
    });
    assert.deepEqual(serverOfRedis({ url: 'rediss://cache' }), {
      address: 'cache',
      port: 6379,
      namespace: '0',
    });
    assert.deepEqual(serverOfRedis({ cluster: { nodes: ['n1:7000', 'n2:7001'] } }), {
      address: 'n1',
      port: 7000,
      namespace: '0',
    });
  });

  it('labels the duration series with the server and, in database families only, the namespace', async () => {
    const registry = new Registry();
    const runtime = createRuntime({ logger: createLogger({ level: 'silent' }), registry });
    const spec = {
      port: 'test',
      operations: { read: { idempotent: true } },
      classifyError: () => ({ reason: 'internal' as const }),
      server: { address: 'h', port: 1, namespace: 'n' },
    };
    const db = new Guard<'read'>(
      { ...spec, id: 'db:x', system: 'x', metrics: semconv.dbClientOperationDuration },
      runtime,
    );
    const broker = new Guard<'read'>(
      { ...spec, id: 'broker:x', system: 'x', metrics: semconv.messagingClientOperationDuration },
      runtime,
    );
    await db.run('read', undefined, () => Promise.resolve(1));
    await broker.run('read', undefined, () => Promise.resolve(1));
    const text = await registry.metrics();
    assert.match(
      text,
      /^db_client_operation_duration_seconds_count\{db_system_name="x",server_address="h",server_port="1",db_namespace="n",component="db:x",db_operation_name="read"\} 1$/m,
    );
    assert.match(
      text,
      /^messaging_client_operation_duration_seconds_count\{messaging_system="x",server_address="h",server_port="1",component="broker:x",messaging_operation_name="read"\} 1$/m,
    );
    assert.match(text, /^messaging_client_operation_duration_seconds_bucket\{[^}]*le="0.075"\} 1$/m);
  });
});
