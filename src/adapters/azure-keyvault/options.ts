import { z } from 'zod';
import {
  componentId,
  policyOverridesSchema,
  positiveInt,
  secretValue,
  tlsCa,
  tokenCredentialSchema,
  urlOf,
} from '../../runtime/options/schema-pieces.ts';

export const azureKeyVaultSecretStoreOptionsSchema = z
  .strictObject({
    id: componentId.optional(),
    /** e.g. `https://my-vault.vault.azure.net`. */
    vaultUrl: urlOf(
      ['https:'],
      'must be an https:// URL without credentials',
      (url) => url.username === '' && url.password === '',
    ),
    /** A Microsoft Entra ID credential from `@azure/identity`; default `DefaultAzureCredential`. */
    credential: tokenCredentialSchema.optional(),
    /**
     * An app registration's secret, made into a `ClientSecretCredential` that trusts `ca` too: a
     * credential from plain values, as the environment gives them. Not with `credential`.
     */
    clientSecretCredential: z
      .strictObject({
        tenantId: z.string().min(1),
        clientId: z.string().min(1),
        clientSecret: secretValue,
        /** The identity endpoint, e.g. a sovereign cloud's or an emulator's. */
        authorityHost: z.url({ protocol: /^https$/ }).optional(),
      })
      .optional(),
    /** Longest wait for a token from the credential. Default 10 s. */
    tokenTimeoutMs: positiveInt.default(10_000),
    /** Purges a secret after deleting it, so its name can be set again at once. Default false. */
    purgeOnDelete: z.boolean().default(false),
    /** Extra CA certificates (PEM) to trust for this vault only, e.g. a private endpoint's or an emulator's. */
    ca: tlsCa.optional(),
    /** Skips checking that the token challenge's resource matches the vault's domain (emulators). */
    disableChallengeResourceVerification: z.boolean().default(false),
    /** The Key Vault REST API version; default the SDK's. */
    serviceVersion: z.string().min(1).optional(),
    policies: policyOverridesSchema.optional(),
  })
  .refine((options) => options.credential === undefined || options.clientSecretCredential === undefined, {
    message: 'give credential or clientSecretCredential, not both',
    path: ['clientSecretCredential'],
  });

export type AzureKeyVaultSecretStoreOptions = z.input<typeof azureKeyVaultSecretStoreOptionsSchema>;
