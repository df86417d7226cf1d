import { z } from 'zod';
import { componentId, policyOverridesSchema } from '../../runtime/options/schema-pieces.ts';

export const envSecretStoreOptionsSchema = z.strictObject({
  id: componentId.optional(),
  /**
   * Variable prefix: with `APP_SECRET_`, the secret `redis-password` is `APP_SECRET_REDIS_PASSWORD`.
   * Names are looked up upper-cased with `-` and `.` as `_`, and listed lower-cased with `_` as `-`.
   */
  prefix: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name prefix such as APP_SECRET_')
    .default('SECRET_'),
  /** Default `process.env`, read at every call. */
  env: z.record(z.string(), z.string().optional()).optional(),
  policies: policyOverridesSchema.optional(),
});

export type EnvSecretStoreOptions = z.input<typeof envSecretStoreOptionsSchema>;
