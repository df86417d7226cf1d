// The SQL conformance on a PostgreSQL that takes only TLS (hostssl, scram-sha-256), the client
// verifying it as libpq's sslmode=verify-full does: the run's CA and the host name.
import fs from 'node:fs';
import { after, describe } from 'node:test';
import { createPostgresDatabase } from '../../src/adapters/postgres/index.ts';
import { sqlConformance } from '../../src/testing/index.ts';
import { secretWatch, serverSecrets } from '../support/secret-watch.ts';
import { findPostgresSecure } from '../support/secure-servers.ts';

const postgres = await findPostgresSecure();

if ('skip' in postgres) {
  describe('sql conformance: postgres over TLS (verify-full)', { skip: postgres.skip }, () => undefined);
} else {
  const ca = fs.readFileSync(postgres.caFile, 'utf8');
  const watch = secretWatch();
  after(() => watch.assertNoSecrets(serverSecrets(postgres)));
  sqlConformance({
    name: 'postgres over TLS (verify-full)',
    create: () => createPostgresDatabase({ url: postgres.url, poolSize: 5, tls: { ca } }, watch.runtime),
    features: { decimalDigits: 38, jsonParsed: true, cancelsStatements: true },
  });
}
