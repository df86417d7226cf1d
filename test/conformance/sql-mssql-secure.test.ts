// The SQL conformance on mssql over a TDS server that requires encryption, the client verifying its
// certificate against the run's CA (no trustServerCertificate): a wire-level contract of the
// adapter with the real mssql/tedious driver, as the plaintext-tolerant one is.
import fs from 'node:fs';
import { after, describe } from 'node:test';
import { createMssqlDatabase } from '../../src/adapters/mssql/index.ts';
import { sqlConformance } from '../../src/testing/index.ts';
import { secretWatch, serverSecrets } from '../support/secret-watch.ts';
import { findMssqlSecure } from '../support/secure-servers.ts';

const server = await findMssqlSecure();

if ('skip' in server) {
  describe(
    'sql conformance: mssql on the TDS test server, encryption required',
    { skip: server.skip },
    () => undefined,
  );
} else {
  const ca = fs.readFileSync(server.caFile, 'utf8');
  const watch = secretWatch();
  after(() => watch.assertNoSecrets(serverSecrets(server)));
  sqlConformance({
    name: 'mssql on the TDS test server, encryption required, certificate verified (wire-level contract)',
    create: () =>
      createMssqlDatabase(
        { url: server.url, poolSize: 5, tls: { ca, serverName: 'localhost' } },
        watch.runtime,
      ),
    features: { decimalDigits: 15, jsonParsed: false, cancelsStatements: true },
  });
}
