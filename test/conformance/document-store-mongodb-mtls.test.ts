// The document store conformance over FerretDB's TLS listener, which requires a client certificate
// signed by the run's CA; the client verifies the server against the same CA. FerretDB offers no
// authentication through its embedding API, so no password is tested here (docs/backends/mongodb.md).
import fs from 'node:fs';
import { after, describe } from 'node:test';
import {
  createMongoDocumentStore,
  type MongoDocumentStoreOptions,
} from '../../src/adapters/mongodb/index.ts';
import type { DocumentStore } from '../../src/ports/index.ts';
import { documentStoreConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { secretWatch, serverSecrets } from '../support/secret-watch.ts';
import { findMongoMtls } from '../support/secure-servers.ts';

const mongo = await findMongoMtls();

if ('skip' in mongo) {
  describe('document store conformance: mongodb over mutual TLS', { skip: mongo.skip }, () => undefined);
} else {
  const tls = {
    ca: fs.readFileSync(mongo.caFile, 'utf8'),
    cert: fs.readFileSync(mongo.clientCertFile, 'utf8'),
    key: fs.readFileSync(mongo.clientKeyFile, 'utf8'),
  };
  const database = `berth_conformance_mtls_${process.pid}_${Date.now()}`;
  const options: MongoDocumentStoreOptions = { url: mongo.url, database, tls };
  const opened: DocumentStore[] = [];
  const watch = secretWatch();
  after(() => watch.assertNoSecrets(serverSecrets(mongo)));
  after(async () => {
    const store = createMongoDocumentStore(options, silentRuntime());
    await store.client().db(database).dropDatabase();
    await Promise.all([...opened, store].map((each) => each.close()));
  });
  documentStoreConformance({
    name: 'mongodb over mutual TLS',
    create: () => {
      const store = createMongoDocumentStore(options, watch.runtime);
      opened.push(store);
      return store;
    },
  });
}
