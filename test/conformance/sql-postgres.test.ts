import { describe } from 'node:test';
import { createPostgresDatabase } from '../../src/adapters/postgres/index.ts';
import { sqlConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findPostgres } from '../support/servers.ts';

const postgres = await findPostgres();

if ('skip' in postgres) {
  describe('sql conformance: postgres', { skip: postgres.skip }, () => undefined);
} else {
  sqlConformance({
    name: 'postgres',
    create: () => createPostgresDatabase({ url: postgres.url, poolSize: 5 }, silentRuntime()),
    features: { decimalDigits: 38, jsonParsed: true, cancelsStatements: true },
  });
}
