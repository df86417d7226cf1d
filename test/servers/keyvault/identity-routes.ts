// Just enough of Microsoft Entra ID for @azure/identity's ClientSecretCredential, under
// /<tenant>/: the OpenID metadata and the client-credentials token endpoint, for the one app
// registration in client.json; and the check of the bearer tokens it issued.
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HttpError, type Reply } from './http.ts';

/** Accepted besides issued tokens, for hand-made HTTP requests. */
const FAKE_TOKEN = 'berth-fake-token';
const VAULT_RESOURCE = 'https://vault.azure.net';
const TOKEN_LIFETIME_S = 3600;
const METADATA = 'v2.0/.well-known/openid-configuration';
const TOKEN = 'oauth2/v2.0/token';

/** The tenant and the one app registration the token endpoint knows. */
export interface AppRegistration {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** client.json in `dir`, made the first time; what `wanted` names wins over what is saved. */
export function appRegistration(dir: string, wanted: Partial<AppRegistration>): AppRegistration {
  const file = path.join(dir, 'client.json');
  let saved: Partial<AppRegistration> = {};
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof saved;
  } catch {
    // first start
  }
  const registration = {
    tenantId: wanted.tenantId ?? saved.tenantId ?? randomUUID(),
    clientId: wanted.clientId ?? saved.clientId ?? randomUUID(),
    // URL-safe, so it can travel in env files and shell lines unquoted.
    clientSecret: wanted.clientSecret ?? saved.clientSecret ?? randomBytes(24).toString('base64url'),
  };
  const text = `${JSON.stringify(registration, null, 2)}\n`;
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) {
    fs.writeFileSync(`${file}.tmp-${process.pid}`, text, { mode: 0o600 });
    fs.renameSync(`${file}.tmp-${process.pid}`, file);
  }
  return registration;
}

export class IdentityRoutes {
  readonly #client: AppRegistration;
  readonly #baseUrl: () => string;
  /** token → when it expires (ms) and its audience. */
  readonly #tokens = new Map<string, { expires: number; resource: string }>();

  /** `baseUrl` is read per request: the port is known only once the server listens. */
  constructor(client: AppRegistration, baseUrl: () => string) {
    this.#client = client;
    this.#baseUrl = baseUrl;
  }

  /** The reply to an identity request, or undefined when the path is not one. */
  route(method: string, segments: readonly string[], body: string): Reply | undefined {
    const [tenant, ...rest] = segments;
    const route = rest.join('/');
    if (route !== METADATA && route !== TOKEN) return undefined;
    if (tenant !== this.#client.tenantId) {
      return {
        status: 400,
        body: {
          error: 'invalid_tenant',
          error_description: `AADSTS90002: Tenant '${tenant}' not found.`,
          error_codes: [90002],
        },
      };
    }
    const expected = route === METADATA ? 'GET' : 'POST';
    if (method !== expected) return { status: 405, body: { error: 'invalid_request' } };
    return route === METADATA ? this.#metadata(tenant) : this.#token(new URLSearchParams(body));
  }

  /** Throws 401 with Azure's challenge unless `header` carries a live token for the vault. */
  authenticate(header: string | undefined): void {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!match) this.#refuse('AKV10000: Request is missing a Bearer or PoP token.');
    const token = match[1] as string;
    if (token === FAKE_TOKEN) return;
    const known = this.#tokens.get(token);
    if (!known || known.expires <= Date.now()) {
      this.#refuse('AKV10013: The access token is not valid or has expired.');
    }
    if (known.resource !== VAULT_RESOURCE)
      this.#refuse(`AKV10022: Invalid audience. Expected ${VAULT_RESOURCE}.`);
  }

  #refuse(message: string): never {
    throw new HttpError(401, 'Unauthorized', message, {
      'www-authenticate': `Bearer authorization="${this.#baseUrl()}/${this.#client.tenantId}", resource="${VAULT_RESOURCE}"`,
    });
  }

  #metadata(tenant: string): Reply {
    const base = `${this.#baseUrl()}/${tenant}`;
    // MSAL insists on these four (msal-common isOpenIdConfigResponse); only token_endpoint is used.
    return {
      status: 200,
      body: {
        issuer: `${base}/v2.0`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/${TOKEN}`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
        tenant_region_scope: 'WW',
      },
    };
  }

  #token(form: URLSearchParams): Reply {
    const refused = this.#refusedGrant(form);
    if (refused) return refused;
    const scope = (form.get('scope') ?? '').split(' ').find((s) => s.endsWith('/.default'));
    if (!scope) {
      return tokenError(
        400,
        'invalid_scope',
        1002012,
        'The provided value for scope is not valid: use <resource>/.default.',
      );
    }
    const expires = Date.now() + TOKEN_LIFETIME_S * 1000;
    for (const [token, known] of this.#tokens) if (known.expires <= Date.now()) this.#tokens.delete(token);
    const accessToken = randomBytes(32).toString('base64url');
    this.#tokens.set(accessToken, { expires, resource: scope.slice(0, -'/.default'.length) });
    return {
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: TOKEN_LIFETIME_S,
        ext_expires_in: TOKEN_LIFETIME_S,
        access_token: accessToken,
      },
    };
  }

  /** Entra ID's answer to a grant other than this app's client credentials, else undefined. */
  #refusedGrant(form: URLSearchParams): Reply | undefined {
    if (form.get('grant_type') !== 'client_credentials') {
      return tokenError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    if (form.get('client_id') !== this.#client.clientId) {
      return tokenError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${form.get('client_id') ?? ''}' was not found in the directory.`,
      );
    }
    if (!sameText(form.get('client_secret') ?? '', this.#client.clientSecret)) {
      return tokenError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, ` +
          `not the client secret ID, for a secret added to app '${this.#client.clientId}'.`,
      );
    }
    return undefined;
  }
}

function tokenError(status: number, error: string, code: number, description: string): Reply {
  return { status, body: { error, error_description: `AADSTS${code}: ${description}`, error_codes: [code] } };
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
