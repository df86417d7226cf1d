import { after } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { createEmbeddedDatabase } from '../../src/adapters/postgres/embedded.ts';
import { sqlConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';

// One in-memory PostgreSQL for the file (PGlite takes seconds to start); each test its own port.
const pglite = new PGlite();
after(() => pglite.close());

sqlConformance({
  name: 'embedded (PGlite)',
  create: () => createEmbeddedDatabase({ pglite }, silentRuntime()),
  features: { decimalDigits: 38, jsonParsed: true, cancelsStatements: false },
});
