export { createMongoDocumentStore, type MongoDocumentStore } from './document-store.ts';
export { classifyMongoError } from './errors.ts';
export type { MongoDocumentStoreOptions, MongoBrokerOptions } from './options.ts';
export { createMongoBroker, type MongoBroker } from './broker.ts';
