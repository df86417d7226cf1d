// Cassandra with a login and TLS required, met with wrong settings: a wrong password, an untrusted
// certificate and plaintext to a TLS port each named within 2 s, never retried; no password in any
// log or error.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import {
  createCassandraTimeSeries,
  type CassandraTimeSeriesOptions,
} from '../../src/adapters/cassandra/index.ts';
import type { ErrorReason, TimeSeries } from '../../src/ports/index.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
import { secretWatch, serverSecrets } from '../support/secret-watch.ts';
import { findCassandraSecure } from '../support/secure-servers.ts';

const cassandra = await findCassandraSecure();

describe(
  'cassandra over TLS with a login: failures are named, fast, and keep secrets',
  { skip: 'skip' in cassandra ? cassandra.skip : false },
  () => {
    if ('skip' in cassandra) return;
    const ca = fs.readFileSync(cassandra.caFile, 'utf8');
    const { password } = cassandra;
    const base = {
      contactPoints: [cassandra.url],
      localDataCenter: cassandra.localDataCenter,
      keyspace: 'berth_failures',
    };
    const opened: TimeSeries[] = [];
    after(() => Promise.all(opened.map((series) => series.close())));
    const watch = secretWatch();
    after(() =>
      watch.assertNoSecrets({ ...serverSecrets(cassandra), 'the wrong password': 'not-the-password' }),
    );

    async function failsEachTime(
      options: Partial<CassandraTimeSeriesOptions>,
      reason: ErrorReason,
      words: RegExp,
    ) {
      const series = createCassandraTimeSeries(
        { ...base, ...options, policies: { breaker: { consecutiveFailures: 2 } } },
        watch.runtime,
      );
      opened.push(series);
      for (let call = 0; call < 3; call++) {
        const started = performance.now();
        const error = await rejectsWith(watch.watch(series.latest('cpu', {})), reason);
        const elapsedMs = performance.now() - started;
        assert.ok(elapsedMs < 2_000, `call ${call} failed in ${Math.round(elapsedMs)} ms`);
        assert.match(error.message, words, `call ${call}: ${error.message}`);
        assert.equal(error.message.includes(password), false);
      }
      const health = await series.health();
      watch.keep(health);
      assert.equal(health.status, 'down');
    }

    it('a wrong password is unauthorized, named, and never retried', async () => {
      await failsEachTime(
        { credentials: { username: cassandra.username, password: 'not-the-password' }, tls: { ca } },
        'unauthorized',
        /authentication failed/,
      );
    });

    it('an untrusted certificate (no CA given) is a config error that says so', async () => {
      await failsEachTime(
        { credentials: { username: cassandra.username, password }, tls: {} },
        'config',
        /untrusted certificate/,
      );
    });

    it('plaintext to a TLS port is a config error that says so', async () => {
      await failsEachTime(
        { credentials: { username: cassandra.username, password } },
        'config',
        /plaintext to a TLS port/,
      );
    });
  },
);
