import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createMongoBroker, type MongoBroker } from '../../src/adapters/mongodb/index.ts';
import { HealthChecker } from '../../src/health/index.ts';
import { isInfraError } from '../../src/ports/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findMongo } from '../support/servers.ts';

// FerretDB answers like a standalone MongoDB: the change-stream broker must refuse it at start.
const mongo = await findMongo();

describe(
  'mongodb change-stream broker on a standalone server',
  { skip: 'skip' in mongo ? mongo.skip : false },
  () => {
    let broker: MongoBroker | undefined;
    after(() => broker?.close());

    it('refuses to subscribe with a clear config error, once, and health says so', async () => {
      if ('skip' in mongo) return;
      broker = createMongoBroker({ url: mongo.url, database: 'berth_broker_test' }, silentRuntime());
      const subscription = broker.subscribe('orders', () => Promise.resolve(), { group: 'g' });
      const started = performance.now();
      await assert.rejects(subscription.ready, (error: unknown) => {
        assert.ok(isInfraError(error));
        assert.equal(error.reason, 'config');
        assert.match(error.message, /replica set/);
        return true;
      });
      assert.ok(performance.now() - started < 5_000, 'refused at once, not after a round of restarts');
      const health = new HealthChecker({ cacheTtlMs: 0 });
      health.register('broker', broker);
      health.markStarted();
      const report = await health.report();
      assert.equal(report.status, 'down');
      // Publishing needs no change stream: it works on a standalone server.
      await broker.publish('orders', { value: { n: 1 } });
    });
  },
);
