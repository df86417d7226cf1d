import type { ConnectionOptions } from 'node:tls';
import { z } from 'zod';
import { Redacted } from '../../ports/redacted.ts';
import type { EnvVariable } from '../../runtime/adapter-descriptor.ts';
import {
  componentId,
  hostPort,
  policyOverridesSchema,
  positiveInt,
  secretValue,
  tlsSettingsSchema,
} from '../../runtime/options/schema-pieces.ts';
import { nodeTlsOptions, tlsVariables } from './tls.ts';

// The options of both Kafka broker drivers (kafkajs and @platformatic/kafka): one meaning each.
export const kafkaBrokerOptionsSchema = z.strictObject({
  id: componentId.optional(),
  /** `host:port` of one or more bootstrap brokers. */
  brokers: z.array(hostPort).min(1),
  clientId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, { message: 'must be 1 to 100 letters, digits, . _ -' })
    .default('berth'),
  /** TLS to the brokers with the system's CAs; `tls` for a private CA or a client certificate. */
  ssl: z.boolean().default(false),
  /** TLS with a private CA, a client certificate (mutual TLS), a server name; implies `ssl`. */
  tls: tlsSettingsSchema.optional(),
  sasl: z
    .strictObject({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
      username: z.string().min(1),
      password: secretValue,
    })
    .optional(),
  /**
   * Extra wait for other publishes to share a request when none is in flight. Default 0: the
   * publishes of one turn of the event loop go together at once, and whatever arrives while a
   * request is in flight goes in the next.
   */
  lingerMs: z.number().int().nonnegative().max(1_000).default(0),
  /** A batch is sent at once when it holds this many records. */
  maxBatchRecords: positiveInt.default(5_000),
  /** Largest message accepted, in bytes; Kafka's own default is about 1 MB. */
  maxMessageBytes: positiveInt.default(1_000_000),
  /** Topics are created on first use unless `autoCreate` is false. */
  topics: z
    .strictObject({
      autoCreate: z.boolean().default(true),
      partitions: positiveInt.max(10_000).default(3),
      replicationFactor: positiveInt.max(100).default(1),
    })
    .default({ autoCreate: true, partitions: 3, replicationFactor: 1 }),
  connectionTimeoutMs: positiveInt.default(3_000),
  requestTimeoutMs: positiveInt.default(10_000),
  /**
   * How long the broker holds a fetch that finds nothing; closing a subscription waits for the
   * fetch in flight. Default 500 ms (kafkajs's own, 5 s, made every close take up to 5 s).
   */
  fetchMaxWaitMs: positiveInt.max(30_000).default(500),
  /** How long close() lets in-flight handlers finish. Default 10 s. */
  closeTimeoutMs: positiveInt.default(10_000),
  policies: policyOverridesSchema.optional(),
});

export type KafkaBrokerOptions = z.input<typeof kafkaBrokerOptionsSchema>;

/** The variables both Kafka drivers read: the connection means the same to either. */
export const kafkaConnectionEnv: Readonly<Record<string, EnvVariable>> = {
  KAFKA_BROKERS: {
    option: 'brokers',
    kind: 'list',
    required: true,
    description: 'bootstrap brokers, host:port,…',
  },
  KAFKA_CLIENT_ID: { option: 'clientId', description: "client id (default 'berth')" },
  KAFKA_SSL: { option: 'ssl', kind: 'boolean', description: 'TLS to the brokers' },
  KAFKA_SASL_MECHANISM: { option: 'sasl.mechanism', description: 'plain, scram-sha-256 or scram-sha-512' },
  KAFKA_SASL_USERNAME: { option: 'sasl.username', description: 'SASL user' },
  KAFKA_SASL_PASSWORD: { option: 'sasl.password', kind: 'secret', description: 'SASL password' },
  ...tlsVariables('KAFKA'),
};

/** A SASL login as both drivers get it: the password asked at each login, so a renewed one is used. */
export interface KafkaLogin {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: () => string;
}

/** How either driver connects: TLS options (or none), and the SASL login. */
export function kafkaSecurity(settings: z.output<typeof kafkaBrokerOptionsSchema>): {
  tls: ConnectionOptions | undefined;
  sasl: KafkaLogin | undefined;
} {
  const { sasl } = settings;
  const secret = sasl?.password;
  return {
    tls: settings.tls ? nodeTlsOptions(settings.tls) : settings.ssl ? {} : undefined,
    sasl: sasl && {
      mechanism: sasl.mechanism,
      username: sasl.username,
      password: () => (secret instanceof Redacted ? secret.reveal() : String(secret)),
    },
  };
}
