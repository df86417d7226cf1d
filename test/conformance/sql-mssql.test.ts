import { describe } from 'node:test';
import { createMssqlDatabase } from '../../src/adapters/mssql/index.ts';
import { sqlConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findMssql } from '../support/servers.ts';

const server = await findMssql();

if ('skip' in server) {
  describe('sql conformance: mssql', { skip: server.skip }, () => undefined);
} else {
  // Without Docker this is berth's TDS test server: a wire-level contract of the adapter with
  // the real mssql/tedious driver, not SQL Server's own behaviour.
  sqlConformance({
    name: server.emulated ? 'mssql on the TDS test server (wire-level contract)' : 'mssql (SQL Server)',
    create: () =>
      createMssqlDatabase(
        // TLS as mssql's default; both servers here have a self-signed certificate.
        { url: server.url, poolSize: 5, trustServerCertificate: true },
        silentRuntime(),
      ),
    // tedious reads DECIMAL into a JavaScript number; nvarchar JSON comes back as its text.
    features: { decimalDigits: 15, jsonParsed: false, cancelsStatements: true },
  });
}
