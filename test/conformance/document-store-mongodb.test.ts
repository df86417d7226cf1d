import { after, describe } from 'node:test';
import { MongoClient } from 'mongodb';
import { createMongoDocumentStore } from '../../src/adapters/mongodb/index.ts';
import { documentStoreConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';
import { findMongo } from '../support/servers.ts';

const mongo = await findMongo();

if ('skip' in mongo) {
  describe('document store conformance: mongodb', { skip: mongo.skip }, () => undefined);
} else {
  // One database per run, dropped afterwards, so runs never see each other's documents.
  const database = `berth_conformance_${process.pid}_${Date.now()}`;
  after(async () => {
    const client = new MongoClient(mongo.url, { serverSelectionTimeoutMS: 2_000 });
    try {
      await client.db(database).dropDatabase();
    } finally {
      await client.close();
    }
  });
  documentStoreConformance({
    name: 'mongodb',
    create: () => createMongoDocumentStore({ url: mongo.url, database }, silentRuntime()),
  });
}
