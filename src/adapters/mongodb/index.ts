export { createMongoDocumentStore, type MongoDocumentStore } from './document-store.ts';
export { classifyMongoError } from './errors.ts';
export type { MongoDocumentStoreOptions } from '../../options/document-store-schemas.ts';
export { createMongoBroker, type MongoBroker } from './broker.ts';
export type { MongoBrokerOptions } from '../../options/document-store-schemas.ts';
