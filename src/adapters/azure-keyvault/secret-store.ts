import { ClientSecretCredential, DefaultAzureCredential } from '@azure/identity';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import type { HealthResult, OperationContext } from '../../ports/component.ts';
import type { ErrorClassification } from '../../ports/errors.ts';
import type {
  SecretMetadata,
  SecretWriteOptions,
  SecretStore,
  SecretStoreAdapter,
  StoredSecret,
} from '../../ports/secret-store.ts';
import type { z } from 'zod';
import { Redacted } from '../../ports/redacted.ts';
import { parseOptions } from '../../runtime/options/validate.ts';
import type { TokenCredentialLike } from '../../runtime/options/schema-pieces.ts';
import { azureKeyVaultSecretStoreOptionsSchema, type AzureKeyVaultSecretStoreOptions } from './options.ts';
import { guardSecretStore } from '../../runtime/secrets/guarded-secret-store.ts';
import { serverOfUrl } from '../../runtime/telemetry/server-info.ts';
import { defaultRuntime, type Runtime } from '../../runtime/runtime.ts';
import { classifyKeyVaultError, toKeyVaultError, TokenTimeoutError } from './errors.ts';

type TokenCredential = ConstructorParameters<typeof SecretClient>[1];
type KeyVaultSecretProperties = Awaited<ReturnType<SecretClient['getSecret']>>['properties'];

// Key Vault's own rule for secret names.
const keyVaultName = /^[0-9a-zA-Z-]{1,127}$/;
// Azure's limit on a secret value.
const maxValueBytes = 25 * 1024;
// A name the probe reads: 404 proves the vault answers and accepts our token.
const probeName = 'berth-health-probe';
const deletePollIntervalMs = 250;

const isStatus = (error: unknown, status: number): boolean =>
  (error as { statusCode?: unknown } | null)?.statusCode === status;

/** Secrets in Azure Key Vault through `@azure/keyvault-secrets`; retries are guard's, not the SDK's. */
class AzureKeyVaultSecretStoreAdapter implements SecretStoreAdapter {
  readonly system = 'azure_key_vault';
  readonly #client: SecretClient;
  readonly #purgeOnDelete: boolean;

  constructor(client: SecretClient, purgeOnDelete: boolean) {
    this.#client = client;
    this.#purgeOnDelete = purgeOnDelete;
  }

  checkName(name: string): string | undefined {
    return keyVaultName.test(name) ? undefined : 'Key Vault names are letters, digits and "-"';
  }

  async get(name: string, ctx: OperationContext): Promise<StoredSecret | undefined> {
    try {
      const secret = await this.#client.getSecret(name, { abortSignal: ctx.signal });
      return { ...metadataOf(name, secret.properties), value: secret.value ?? '' };
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw toKeyVaultError(error);
    }
  }

  async list(ctx: OperationContext): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const properties of this.#client.listPropertiesOfSecrets({ abortSignal: ctx.signal })) {
        // Key Vault lists disabled secrets too; they cannot be read, so they are not offered.
        if (properties.enabled !== false) names.push(properties.name);
      }
    } catch (error) {
      throw toKeyVaultError(error);
    }
    return names;
  }

  async set(
    name: string,
    value: string,
    options: SecretWriteOptions,
    ctx: OperationContext,
  ): Promise<SecretMetadata> {
    if (Buffer.byteLength(value) > maxValueBytes)
      throw new RangeError(`a Key Vault secret value is at most ${maxValueBytes} bytes`);
    const secret = await this.#client
      .setSecret(name, value, {
        abortSignal: ctx.signal,
        ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
        ...(options.expiresAt === undefined ? {} : { expiresOn: options.expiresAt }),
      })
      .catch((error: unknown) => {
        throw toKeyVaultError(error);
      });
    return metadataOf(name, secret.properties);
  }

  async delete(name: string, ctx: OperationContext): Promise<boolean> {
    try {
      const poller = await this.#client.beginDeleteSecret(name, {
        abortSignal: ctx.signal,
        intervalInMs: deletePollIntervalMs,
      });
      await poller.pollUntilDone({ abortSignal: ctx.signal });
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw toKeyVaultError(error);
    }
    if (this.#purgeOnDelete) {
      await this.#client.purgeDeletedSecret(name, { abortSignal: ctx.signal }).catch((error: unknown) => {
        throw toKeyVaultError(error);
      });
    }
    return true;
  }

  async probe(signal: AbortSignal): Promise<HealthResult> {
    try {
      await this.#client.getSecret(probeName, { abortSignal: signal });
    } catch (error) {
      if (!isStatus(error, 404)) throw toKeyVaultError(error);
    }
    return { status: 'up', details: { vault: this.#client.vaultUrl } };
  }

  classifyError(error: unknown): ErrorClassification {
    return classifyKeyVaultError(error);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function metadataOf(name: string, properties: KeyVaultSecretProperties): SecretMetadata {
  return {
    name,
    version: properties.version,
    updatedAt: properties.updatedOn,
    expiresAt: properties.expiresOn,
    contentType: properties.contentType,
  };
}

/** The credential, with a bound on the time to get a token: a hung identity endpoint fails fast. */
function boundedCredential(credential: TokenCredentialLike, timeoutMs: number): TokenCredential {
  return {
    async getToken(scopes, options) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = options?.abortSignal
        ? AbortSignal.any([options.abortSignal as AbortSignal, timeout])
        : timeout;
      let onAbort: (() => void) | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        onAbort = () => reject(timeout.aborted ? new TokenTimeoutError(timeoutMs) : (signal.reason as Error));
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        const token = credential.getToken(scopes, { ...options, abortSignal: signal });
        return await Promise.race([token, timedOut]);
      } finally {
        signal.removeEventListener('abort', onAbort!);
      }
    },
  };
}

function credentialOf(options: z.output<typeof azureKeyVaultSecretStoreOptionsSchema>): TokenCredentialLike {
  if (options.credential !== undefined) return options.credential;
  const app = options.clientSecretCredential;
  if (app === undefined) return new DefaultAzureCredential();
  const secret = app.clientSecret instanceof Redacted ? app.clientSecret.reveal() : app.clientSecret;
  return new ClientSecretCredential(app.tenantId, app.clientId, secret, {
    ...(app.authorityHost === undefined
      ? {}
      : // A host of one's own is not in Microsoft's cloud list: asking it for one would fail.
        { authorityHost: app.authorityHost, disableInstanceDiscovery: true }),
    ...(options.ca === undefined ? {} : { tlsOptions: { ca: options.ca } }),
  });
}

/**
 * Azure Key Vault over `@azure/keyvault-secrets`. Without `credential` it uses
 * `DefaultAzureCredential`; either way a token must come within `tokenTimeoutMs`.
 */
export function createAzureKeyVaultSecretStore(
  options: AzureKeyVaultSecretStoreOptions,
  runtime: Runtime = defaultRuntime(),
): SecretStore {
  const parsed = parseOptions(azureKeyVaultSecretStoreOptionsSchema, options, 'Azure Key Vault options');
  const clientOptions: SecretClientOptions = {
    retryOptions: { maxRetries: 0 },
    disableChallengeResourceVerification: parsed.disableChallengeResourceVerification,
    ...(parsed.serviceVersion === undefined
      ? {}
      : { serviceVersion: parsed.serviceVersion as NonNullable<SecretClientOptions['serviceVersion']> }),
    ...(parsed.ca === undefined ? {} : { tlsOptions: { ca: parsed.ca } }),
  };
  const credential = boundedCredential(credentialOf(parsed), parsed.tokenTimeoutMs);
  const client = new SecretClient(parsed.vaultUrl, credential, clientOptions);
  const adapter = new AzureKeyVaultSecretStoreAdapter(client, parsed.purgeOnDelete);
  return guardSecretStore(adapter, { ...parsed, server: serverOfUrl(parsed.vaultUrl) }, runtime);
}
