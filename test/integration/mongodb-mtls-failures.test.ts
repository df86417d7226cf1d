// mongodb against FerretDB's mutual-TLS listener when the settings are wrong: an untrusted
// certificate, no client certificate, and plaintext to a TLS port each named within 2 s, not
// retried into a timeout.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';
import {
  createMongoDocumentStore,
  type MongoDocumentStoreOptions,
} from '../../src/adapters/mongodb/index.ts';
import type { DocumentStore, ErrorReason } from '../../src/ports/index.ts';
import { rejectsWith } from '../../src/testing/infra-assertions.ts';
import { secretWatch, serverSecrets } from '../support/secret-watch.ts';
import { findMongoMtls } from '../support/secure-servers.ts';

const mongo = await findMongoMtls();

describe(
  'mongodb over mutual TLS: failures are named and fast',
  { skip: 'skip' in mongo ? mongo.skip : false },
  () => {
    if ('skip' in mongo) return;
    const ca = fs.readFileSync(mongo.caFile, 'utf8');
    const opened: DocumentStore[] = [];
    after(() => Promise.all(opened.map((store) => store.close())));
    const watch = secretWatch();
    after(() => watch.assertNoSecrets({ ...serverSecrets(mongo) }));

    async function failsEachTime(
      options: Omit<MongoDocumentStoreOptions, 'database'>,
      reason: ErrorReason,
      words: RegExp,
    ) {
      const store = createMongoDocumentStore(
        { database: 'berth_mtls_failures', ...options, policies: { breaker: { consecutiveFailures: 2 } } },
        watch.runtime,
      );
      opened.push(store);
      for (let call = 0; call < 3; call++) {
        const started = performance.now();
        const error = await rejectsWith(watch.watch(store.collection('things').get('a')), reason);
        const elapsedMs = performance.now() - started;
        assert.ok(elapsedMs < 2_000, `call ${call} failed in ${Math.round(elapsedMs)} ms`);
        assert.match(error.message, words, `call ${call}: ${error.message}`);
      }
      const health = await store.health();
      watch.keep(health);
      assert.equal(health.status, 'down');
    }

    it('an untrusted certificate (no CA given) is a config error that says so', async () => {
      await failsEachTime({ url: mongo.url, tls: {} }, 'config', /untrusted certificate/);
    });

    it('no client certificate where mutual TLS is required is a config error that says so', async () => {
      await failsEachTime({ url: mongo.url, tls: { ca } }, 'config', /client certificate/);
    });

    it('plaintext to a TLS port is a config error that says so', async () => {
      const plaintext = new URL(mongo.url);
      plaintext.search = '';
      await failsEachTime({ url: plaintext.toString() }, 'config', /plaintext to a TLS port/);
    });
  },
);
