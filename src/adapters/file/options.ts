import { z } from 'zod';
import { componentId, policyOverridesSchema } from '../../runtime/options/schema-pieces.ts';

export const fileSecretStoreOptionsSchema = z.strictObject({
  id: componentId.optional(),
  /** A folder with one file per secret, as Kubernetes mounts a Secret; read at every call. */
  directory: z.string().min(1),
  /** Drops one trailing newline, as editors and `echo` add one. Default true. */
  trimTrailingNewline: z.boolean().default(true),
  policies: policyOverridesSchema.optional(),
});

export type FileSecretStoreOptions = z.input<typeof fileSecretStoreOptionsSchema>;
