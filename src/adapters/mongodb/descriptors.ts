import { defineAdapter, type EnvVariable } from '../../runtime/adapter-descriptor.ts';
import {
  mongoBrokerOptionsSchema,
  mongoDocumentStoreOptionsSchema,
  type MongoBrokerOptions,
  type MongoDocumentStoreOptions,
} from './options.ts';
import { tlsVariables } from '../shared/tls.ts';

const connection: Record<string, EnvVariable> = {
  MONGODB_URL: { option: 'url', required: true, description: 'mongodb:// or mongodb+srv:// URL' },
  MONGODB_DATABASE: { option: 'database', required: true, description: 'database name' },
  MONGODB_USERNAME: { option: 'auth.username', description: 'overrides the user in the URL' },
  MONGODB_PASSWORD: {
    option: 'auth.password',
    kind: 'secret',
    description: 'overrides the password in the URL',
  },
  ...tlsVariables('MONGODB'),
};

export const mongoDocumentStoreAdapter = defineAdapter({
  port: 'documents',
  driver: 'mongodb',
  options: mongoDocumentStoreOptionsSchema,
  packages: ['mongodb'],
  env: connection,
  create: async (options, runtime) =>
    (await import('./document-store.ts')).createMongoDocumentStore(
      options as MongoDocumentStoreOptions,
      runtime,
    ),
});

/** Change streams: needs a replica set. */
export const mongoBrokerAdapter = defineAdapter({
  port: 'broker',
  driver: 'mongodb',
  options: mongoBrokerOptionsSchema,
  packages: ['mongodb'],
  env: connection,
  create: async (options, runtime) =>
    (await import('./broker.ts')).createMongoBroker(options as MongoBrokerOptions, runtime),
});
