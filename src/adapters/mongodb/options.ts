import { z } from 'zod';
import {
  componentId,
  policyOverridesSchema,
  positiveInt,
  secretValue,
  tlsSettingsSchema,
  urlOf,
} from '../../runtime/options/schema-pieces.ts';

const mongoUrl = urlOf(
  ['mongodb:', 'mongodb+srv:'],
  'must be a mongodb:// or mongodb+srv:// URL with a host',
);

export const mongoDocumentStoreOptionsSchema = z.strictObject({
  id: componentId.optional(),
  url: mongoUrl,
  /** MongoDB's rules for database names. */
  database: z.string().regex(/^[^/\\. "$*<>:|?\0]{1,63}$/, {
    message: 'must be 1 to 63 characters without / \\ . space " $ * < > : | ?',
  }),
  /** Overrides credentials in `url`; a `Redacted` password stays out of logs. */
  auth: z
    .strictObject({
      username: z.string().min(1),
      password: secretValue,
    })
    .optional(),
  /** How long an operation waits for a reachable server before failing as `unavailable`. Default 2 s. */
  serverSelectionTimeoutMs: positiveInt.default(2_000),
  connectTimeoutMs: positiveInt.default(2_000),
  maxPoolSize: positiveInt.max(1_000).default(100),
  appName: z.string().min(1).max(128).default('berth'),
  /** TLS with a private CA, a client certificate (mutual TLS), a server name: every backend's shape. */
  tls: tlsSettingsSchema.optional(),
  policies: policyOverridesSchema.optional(),
});

export type MongoDocumentStoreOptions = z.input<typeof mongoDocumentStoreOptionsSchema>;

const collectionName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,120}$/, { message: 'must be 1 to 120 letters, digits, _ . -' });

export const mongoBrokerOptionsSchema = z.strictObject({
  ...mongoDocumentStoreOptionsSchema.shape,
  /** The collection that holds every topic's messages. */
  messages: collectionName.default('berth_messages'),
  /** Where each group's resume token is kept, written only after its handlers succeeded. */
  positions: collectionName.default('berth_positions'),
  /** Largest message accepted, in bytes. Default 1 MiB. */
  maxMessageBytes: positiveInt.max(15_000_000).default(1_048_576),
  /** How long close() lets in-flight handlers finish. Default 10 s. */
  closeTimeoutMs: positiveInt.default(10_000),
});

export type MongoBrokerOptions = z.input<typeof mongoBrokerOptionsSchema>;
