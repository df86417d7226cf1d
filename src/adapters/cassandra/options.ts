import { z } from 'zod';
import {
  componentId,
  policyOverridesSchema,
  positiveInt,
  secretValue,
  tlsSettingsSchema,
} from '../../runtime/options/schema-pieces.ts';
import { seriesName, ttlMs } from '../../runtime/time-series/option-pieces.ts';

const day = 86_400_000;

/** Consistency levels by the driver's names; `any` (writes only) and the serial ones (LWT) cannot read. */
export const cassandraConsistencies = [
  'one',
  'two',
  'three',
  'quorum',
  'all',
  'localQuorum',
  'eachQuorum',
  'localOne',
] as const;

export type CassandraConsistency = (typeof cassandraConsistencies)[number];

// Data center names go into the replication map of CREATE KEYSPACE: no quote can pass.
const dataCenterName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, {
  message: 'data center names are 1 to 64 letters, digits, _ . -',
});

const replicationFactor = z.number().int().min(1).max(32);

export const cassandraReplicationSchema = z.union([
  z.strictObject({ class: z.literal('SimpleStrategy').default('SimpleStrategy'), replicationFactor }),
  z.strictObject({
    class: z.literal('NetworkTopologyStrategy'),
    dataCenters: z
      .record(dataCenterName, replicationFactor)
      .refine((map) => Object.keys(map).length > 0, 'names at least one data center'),
  }),
]);

export const cassandraTimeSeriesOptionsSchema = z.strictObject({
  id: componentId.optional(),
  /** `host:port` of one or more nodes; the driver finds the others. */
  contactPoints: z
    .array(
      z
        .string()
        .regex(/^[^\s:/@,]+:\d{1,5}$/, { message: 'must be host:port' })
        .refine(
          (point) => Number(point.slice(point.lastIndexOf(':') + 1)) <= 65_535,
          'port must be at most 65535',
        ),
    )
    .min(1),
  /** The data center whose nodes serve requests (token-aware within it). */
  localDataCenter: z.string().min(1).max(100),
  /** Lowercase, as CQL folds unquoted names: the keyspace is named in statements, never bound. */
  keyspace: z.string().regex(/^[a-z][a-z0-9_]{0,47}$/, {
    message: 'must be 1 to 48 lowercase letters, digits or _, starting with a letter',
  }),
  /** For PasswordAuthenticator; a `Redacted` password stays out of logs. */
  credentials: z.strictObject({ username: z.string().min(1), password: secretValue }).optional(),
  /** TLS to every node: a private CA, a client certificate, a server name (every backend's shape). */
  tls: tlsSettingsSchema.optional(),
  /** Of every read and write. Default `localQuorum`. */
  consistency: z.enum(cassandraConsistencies).default('localQuorum'),
  /**
   * Width of a partition of one stream, in milliseconds (default one day); also the
   * TimeWindowCompactionStrategy window. Data written with one width is not read with another.
   */
  bucketMs: z
    .number()
    .int()
    .min(1_000)
    .max(366 * day)
    .default(day),
  /** Time to live of points written without one and not in `seriesTtlMs`; absent keeps them. */
  defaultTtlMs: ttlMs.optional(),
  /** Time to live by series name, over `defaultTtlMs`; a write's own `ttlMs` overrides both. */
  seriesTtlMs: z.record(seriesName, ttlMs).optional(),
  /** Creates the keyspace and tables when missing (opt-in); absent, they must exist. */
  createSchema: z.strictObject({ replication: cassandraReplicationSchema }).optional(),
  /** Buckets a range reads at once when they hold fewer points than a page. Default 2. */
  maxBucketsInFlight: z.number().int().min(1).max(16).default(2),
  /** Writes in flight at once within one `write` call. Default 64. */
  maxWritesInFlight: z.number().int().min(1).max(1_024).default(64),
  connectTimeoutMs: positiveInt.default(5_000),
  /** Another node is asked too when one has not answered after `delayMs` (every statement is idempotent). */
  speculativeExecution: z
    .strictObject({ delayMs: positiveInt, maxExecutions: z.number().int().min(1).max(4).default(1) })
    .optional(),
  policies: policyOverridesSchema.optional(),
});

export type CassandraTimeSeriesOptions = z.input<typeof cassandraTimeSeriesOptionsSchema>;

export type ParsedCassandraTimeSeriesOptions = z.output<typeof cassandraTimeSeriesOptionsSchema>;
