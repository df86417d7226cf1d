import { describe } from 'node:test';
import { createMemoryBroker } from '../../src/adapters/memory/index.ts';
import { createMssqlDatabase } from '../../src/adapters/mssql/index.ts';
import { outboxConformance } from '../../src/testing/index.ts';
import { findMssql } from '../support/servers.ts';

const server = await findMssql();

if ('skip' in server) {
  describe('outbox conformance: mssql', { skip: server.skip }, () => undefined);
} else {
  // Without Docker this is berth's TDS test server: the outbox's T-SQL through the real mssql
  // driver (locks, TOP, the lease updates), not SQL Server's own locking.
  outboxConformance({
    name: server.emulated
      ? 'mssql on the TDS test server (wire-level contract) and memory broker'
      : 'mssql (SQL Server) and memory broker',
    sql: async (runtime) => {
      const database = createMssqlDatabase(
        { url: server.url, poolSize: 5, trustServerCertificate: true },
        runtime,
      );
      await database.start();
      return database;
    },
    broker: (runtime, options) => createMemoryBroker(options, runtime),
  });
}
