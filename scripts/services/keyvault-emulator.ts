// A small Azure Key Vault emulator, secrets only, for tests: the vault REST API plus just enough
// of Microsoft Entra ID (OpenID metadata and a client-credentials token endpoint) for the real
// @azure/keyvault-secrets SecretClient and @azure/identity ClientSecretCredential, over HTTPS with
// a self-signed certificate that clients trust explicitly (`ca`). State lives in memory.
//
// Clients (see test/integration/keyvault-service.test.ts):
//   new ClientSecretCredential(tenantId, clientId, clientSecret,
//     { authorityHost: url, disableInstanceDiscovery: true, tlsOptions: { ca } })
//   new SecretClient(url, credential, { tlsOptions: { ca }, disableChallengeResourceVerification: true })
// (the challenge names resource https://vault.azure.net, which the SDK checks against the vault's
// host name unless told not to).
//
// Authentication: vault requests need `Authorization: Bearer <token>` with a token from the
// token endpoint (opaque, for scope https://vault.azure.net/.default, valid for 1 hour), or the
// fixed token `berth-fake-token` for hand-made HTTP requests; anything else gets 401 and the
// `WWW-Authenticate: Bearer authorization="<url>/<tenant>", resource="…"` challenge Azure sends.
//
// CLI: node scripts/services/keyvault-emulator.ts --port N --dir DIR [--host 127.0.0.1]
// writes cert.pem, key.pem and client.json (tenantId, clientId, clientSecret) into DIR once and
// reuses them, then serves in the foreground, logging one line per request (never a body).
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KeyVaultEmulatorOptions {
  /** 0 (the default) picks a free port; `start()` after `stop()` reuses the same one. */
  port?: number;
  host?: string;
  /** Where cert.pem, key.pem and client.json live (reused when present); default a new temp dir. */
  dir?: string;
  clientId?: string;
  clientSecret?: string;
  tenantId?: string;
  /** Called with one line per request (method, path, status, time; never a body). */
  log?: (line: string) => void;
}

export type FaultReply = { status: number; headers?: Record<string, string>; body?: unknown } | 'hang';

export interface RequestRecord {
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  /** Undefined while unanswered (or for a hung request). */
  status: number | undefined;
}

export interface KeyVaultEmulator {
  /** https://<host>:<port>, the vault URL and also the authority host. */
  readonly url: string;
  readonly authorityHost: string;
  /** PEM of the (self-signed) server certificate, to trust as `ca`. */
  readonly ca: string;
  readonly caFile: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Every request so far, token requests included. */
  readonly requests: readonly RequestRecord[];
  /**
   * The next `count` authenticated vault API requests (not token or metadata requests, and not
   * the SDK's unauthenticated challenge probe) get `reply` instead, or no reply at all ('hang').
   */
  failNext(count: number, reply: FaultReply): void;
  /** Closes the listener and destroys open connections (keep-alive clients see it gone). */
  stop(): Promise<void>;
  /** Listens again on the same port, with the same secrets, tokens and certificate. */
  start(): Promise<void>;
}

const FAKE_TOKEN = 'berth-fake-token';
const VAULT_RESOURCE = 'https://vault.azure.net';
const TOKEN_LIFETIME_S = 3600;
const MAX_VALUE_BYTES = 25_600;
const MAX_PAGE = 25;
const MAX_BODY_BYTES = 1 << 20;
const MAX_RECORDS = 10_000; // of `requests`, so a long-running CLI does not grow without bound
const RECOVERABLE_DAYS = 90;
const NAME = /^[0-9a-zA-Z-]{1,127}$/;

interface Attributes {
  enabled: boolean;
  created: number;
  updated: number;
  nbf?: number;
  exp?: number;
}

interface Version {
  readonly version: string;
  readonly value: string;
  contentType?: string;
  tags?: Record<string, string>;
  attributes: Attributes;
}

interface Secret {
  readonly name: string;
  /** Oldest first; the last one is the current version. */
  readonly versions: Version[];
  deleted?: { deletedDate: number; scheduledPurgeDate: number };
}

class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

const now = (): number => Math.floor(Date.now() / 1000);

export async function startKeyVaultEmulator(
  options: KeyVaultEmulatorOptions = {},
): Promise<KeyVaultEmulator> {
  const host = options.host ?? '127.0.0.1';
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'berth-keyvault-'));
  fs.mkdirSync(dir, { recursive: true });
  const { cert, key, certFile } = certificate(dir);
  const client = clientConfig(dir, options);

  const secrets = new Map<string, Secret>();
  /** token → when it expires (ms) and its audience. */
  const tokens = new Map<string, { expires: number; resource: string }>();
  const faults: FaultReply[] = [];
  const requests: RequestRecord[] = [];
  let port = options.port ?? 0;
  let url = '';
  let server: https.Server | undefined;
  // Every socket, TLS handshakes included (closeAllConnections knows only HTTP connections).
  const sockets = new Set<Socket>();

  const vaultError = (status: number, code: string, message: string) => new HttpError(status, code, message);
  const notFound = (name: string, version = '') =>
    vaultError(
      404,
      'SecretNotFound',
      `A secret with (name/id) ${version ? `${name}/${version}` : name} was not found in this key vault. ` +
        'If you recently deleted this secret you may be able to recover it using the correct recovery command.',
    );

  function liveSecret(name: string): Secret {
    const secret = secrets.get(name);
    if (!secret || secret.deleted) throw notFound(name);
    return secret;
  }

  function findVersion(secret: Secret, version: string): Version {
    const found = version ? secret.versions.find((v) => v.version === version) : secret.versions.at(-1);
    if (!found) throw notFound(secret.name, version);
    return found;
  }

  function attributesJson(attributes: Attributes) {
    return { ...attributes, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: RECOVERABLE_DAYS };
  }

  function bundle(secret: Secret, version: Version, withValue: boolean) {
    return {
      ...(withValue ? { value: version.value } : {}),
      id: `${url}/secrets/${secret.name}/${version.version}`,
      ...(version.contentType === undefined ? {} : { contentType: version.contentType }),
      ...(version.tags === undefined ? {} : { tags: version.tags }),
      attributes: attributesJson(version.attributes),
    };
  }

  function deletedBundle(secret: Secret) {
    const current = secret.versions.at(-1) as Version;
    return {
      ...bundle(secret, current, false),
      recoveryId: `${url}/deletedsecrets/${secret.name}`,
      deletedDate: secret.deleted?.deletedDate,
      scheduledPurgeDate: secret.deleted?.scheduledPurgeDate,
    };
  }

  function item(secret: Secret, version: Version, versioned: boolean) {
    const { id, ...rest } = bundle(secret, version, false);
    return { id: versioned ? id : `${url}/secrets/${secret.name}`, ...rest };
  }

  function page(items: unknown[], query: URLSearchParams, pathname: string) {
    const max = query.get('maxresults') === null ? MAX_PAGE : Number(query.get('maxresults'));
    if (!Number.isInteger(max) || max < 1 || max > MAX_PAGE) {
      throw vaultError(400, 'BadParameter', `maxresults must be an integer from 1 to ${MAX_PAGE}`);
    }
    const skip = query.get('$skiptoken') === null ? 0 : Number(query.get('$skiptoken'));
    if (!Number.isInteger(skip) || skip < 0) throw vaultError(400, 'BadParameter', 'invalid $skiptoken');
    const end = skip + max;
    let nextLink: string | null = null;
    if (end < items.length) {
      const next = new URLSearchParams({
        'api-version': query.get('api-version') ?? '',
        $skiptoken: String(end),
        maxresults: String(max),
      });
      nextLink = `${url}${pathname}?${next.toString()}`;
    }
    return { value: items.slice(skip, end), nextLink };
  }

  /** Applies `contentType`, `tags` and `attributes` from a PUT or PATCH body. */
  function applyProperties(version: Version, body: Record<string, unknown>): void {
    if (body['contentType'] !== undefined) {
      if (typeof body['contentType'] !== 'string') throw vaultError(400, 'BadParameter', 'contentType');
      version.contentType = body['contentType'];
    }
    if (body['tags'] !== undefined) {
      const tags = body['tags'];
      if (
        tags === null ||
        typeof tags !== 'object' ||
        Array.isArray(tags) ||
        !Object.values(tags).every((tag) => typeof tag === 'string')
      ) {
        throw vaultError(400, 'BadParameter', 'tags must be an object of strings');
      }
      version.tags = { ...(tags as Record<string, string>) };
    }
    const attributes = body['attributes'];
    if (attributes !== undefined && attributes !== null) {
      if (typeof attributes !== 'object') throw vaultError(400, 'BadParameter', 'attributes');
      const { enabled, nbf, exp } = attributes as Record<string, unknown>;
      if (enabled !== undefined && enabled !== null) {
        if (typeof enabled !== 'boolean') throw vaultError(400, 'BadParameter', 'attributes.enabled');
        version.attributes.enabled = enabled;
      }
      for (const [field, time] of [
        ['nbf', nbf],
        ['exp', exp],
      ] as const) {
        if (time === undefined || time === null) continue;
        if (typeof time !== 'number' || !Number.isInteger(time)) {
          throw vaultError(400, 'BadParameter', `attributes.${field} must be unix seconds`);
        }
        version.attributes[field] = time;
      }
    }
  }

  function vault(method: string, segments: string[], query: URLSearchParams, body: unknown) {
    if (!query.get('api-version')) {
      throw vaultError(400, 'BadParameter', 'The api-version query parameter is missing.');
    }
    const [collection, name, third, fourth, ...extra] = segments;
    const json = (): Record<string, unknown> => {
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw vaultError(400, 'BadParameter', 'The request body must be a JSON object.');
      }
      return body as Record<string, unknown>;
    };
    if (extra.length > 0 || (collection !== 'secrets' && collection !== 'deletedsecrets')) {
      throw vaultError(404, 'NotFound', `No route for ${method} /${segments.join('/')}`);
    }
    if (collection === 'secrets') {
      if (name === undefined) {
        if (method !== 'GET') throw methodNotAllowed(method);
        const live = [...secrets.values()]
          .filter((s) => !s.deleted)
          .sort((a, b) => a.name.localeCompare(b.name));
        return {
          status: 200,
          body: page(
            live.map((s) => item(s, s.versions.at(-1) as Version, false)),
            query,
            '/secrets',
          ),
        };
      }
      if (!NAME.test(name)) {
        throw vaultError(
          400,
          'BadParameter',
          `The secret name '${name}' is invalid: use 1-127 letters, digits and dashes.`,
        );
      }
      if (fourth !== undefined)
        throw vaultError(404, 'NotFound', `No route for ${method} /${segments.join('/')}`);
      if (third === 'versions') {
        if (method !== 'GET') throw methodNotAllowed(method);
        const secret = secrets.get(name);
        const versions = secret && !secret.deleted ? secret.versions : [];
        return {
          status: 200,
          body: page(
            versions.map((v) => item(secret as Secret, v, true)),
            query,
            `/secrets/${name}/versions`,
          ),
        };
      }
      const version = third ?? '';
      if (method === 'PUT' && third === undefined) {
        const input = json();
        if (typeof input['value'] !== 'string')
          throw vaultError(400, 'BadParameter', 'value must be a string');
        if (Buffer.byteLength(input['value']) > MAX_VALUE_BYTES) {
          throw vaultError(400, 'BadParameter', `The secret value is larger than ${MAX_VALUE_BYTES} bytes.`);
        }
        let secret = secrets.get(name);
        if (secret?.deleted) {
          throw vaultError(
            409,
            'Conflict',
            `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; ` +
              'in this state, the secret can only be recovered or purged.',
          );
        }
        const time = now();
        const created: Version = {
          version: randomBytes(16).toString('hex'),
          value: input['value'],
          attributes: { enabled: true, created: time, updated: time },
        };
        applyProperties(created, input);
        if (!secret) {
          secret = { name, versions: [] };
          secrets.set(name, secret);
        }
        secret.versions.push(created);
        return { status: 200, body: bundle(secret, created, true) };
      }
      if (method === 'GET') {
        const secret = liveSecret(name);
        const found = findVersion(secret, version);
        if (!found.attributes.enabled) {
          throw vaultError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.');
        }
        return { status: 200, body: bundle(secret, found, true) };
      }
      if (method === 'PATCH') {
        const secret = liveSecret(name);
        const found = findVersion(secret, version);
        const input = json();
        if (input['value'] !== undefined)
          throw vaultError(400, 'BadParameter', 'PATCH cannot change the value');
        applyProperties(found, input);
        found.attributes.updated = now();
        return { status: 200, body: bundle(secret, found, false) };
      }
      if (method === 'DELETE' && third === undefined) {
        const secret = liveSecret(name);
        const deletedDate = now();
        secret.deleted = { deletedDate, scheduledPurgeDate: deletedDate + RECOVERABLE_DAYS * 86400 };
        return { status: 200, body: deletedBundle(secret) };
      }
      throw methodNotAllowed(method);
    }
    // deletedsecrets
    const deleted = (secretName: string): Secret => {
      const secret = secrets.get(secretName);
      if (!secret?.deleted)
        throw vaultError(404, 'SecretNotFound', `Deleted Secret not found: ${secretName}`);
      return secret;
    };
    if (name === undefined) {
      if (method !== 'GET') throw methodNotAllowed(method);
      const all = [...secrets.values()].filter((s) => s.deleted).sort((a, b) => a.name.localeCompare(b.name));
      const items = all.map((s) => {
        const { id: _id, ...rest } = deletedBundle(s);
        return { id: `${url}/secrets/${s.name}`, ...rest };
      });
      return { status: 200, body: page(items, query, '/deletedsecrets') };
    }
    if (fourth !== undefined)
      throw vaultError(404, 'NotFound', `No route for ${method} /${segments.join('/')}`);
    if (third === 'recover') {
      if (method !== 'POST') throw methodNotAllowed(method);
      const secret = deleted(name);
      delete secret.deleted;
      return { status: 200, body: bundle(secret, secret.versions.at(-1) as Version, false) };
    }
    if (third !== undefined)
      throw vaultError(404, 'NotFound', `No route for ${method} /${segments.join('/')}`);
    if (method === 'GET') return { status: 200, body: deletedBundle(deleted(name)) };
    if (method === 'DELETE') {
      secrets.delete(deleted(name).name);
      return { status: 204, body: undefined };
    }
    throw methodNotAllowed(method);
  }

  function methodNotAllowed(method: string): HttpError {
    return vaultError(
      405,
      'MethodNotAllowed',
      `The requested resource does not support http method '${method}'.`,
    );
  }

  function challenge(): Record<string, string> {
    return {
      'www-authenticate': `Bearer authorization="${url}/${client.tenantId}", resource="${VAULT_RESOURCE}"`,
    };
  }

  function authenticate(header: string | undefined): void {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!match) {
      throw new HttpError(
        401,
        'Unauthorized',
        'AKV10000: Request is missing a Bearer or PoP token.',
        challenge(),
      );
    }
    const token = match[1] as string;
    if (token === FAKE_TOKEN) return;
    const known = tokens.get(token);
    if (!known || known.expires <= Date.now()) {
      throw new HttpError(
        401,
        'Unauthorized',
        'AKV10013: The access token is not valid or has expired.',
        challenge(),
      );
    }
    if (known.resource !== VAULT_RESOURCE) {
      throw new HttpError(
        401,
        'Unauthorized',
        `AKV10022: Invalid audience. Expected ${VAULT_RESOURCE}.`,
        challenge(),
      );
    }
  }

  /** Entra ID: OpenID metadata and the client-credentials token endpoint, under /<tenant>/. */
  function identity(
    method: string,
    segments: string[],
    body: string,
  ): { status: number; body: unknown } | undefined {
    const [tenant, ...rest] = segments;
    const route = rest.join('/');
    if (route !== 'v2.0/.well-known/openid-configuration' && route !== 'oauth2/v2.0/token') return undefined;
    if (tenant !== client.tenantId) {
      return {
        status: 400,
        body: {
          error: 'invalid_tenant',
          error_description: `AADSTS90002: Tenant '${tenant}' not found.`,
          error_codes: [90002],
        },
      };
    }
    const base = `${url}/${tenant}`;
    if (route === 'v2.0/.well-known/openid-configuration') {
      if (method !== 'GET') return { status: 405, body: { error: 'invalid_request' } };
      // MSAL insists on these four (msal-common isOpenIdConfigResponse); only token_endpoint is used.
      return {
        status: 200,
        body: {
          issuer: `${base}/v2.0`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          token_endpoint: `${base}/oauth2/v2.0/token`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
          end_session_endpoint: `${base}/oauth2/v2.0/logout`,
          response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
          token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
          tenant_region_scope: 'WW',
        },
      };
    }
    if (method !== 'POST') return { status: 405, body: { error: 'invalid_request' } };
    const form = new URLSearchParams(body);
    const tokenError = (status: number, error: string, code: number, description: string) => ({
      status,
      body: { error, error_description: `AADSTS${code}: ${description}`, error_codes: [code] },
    });
    if (form.get('grant_type') !== 'client_credentials') {
      return tokenError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    if (form.get('client_id') !== client.clientId) {
      return tokenError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${form.get('client_id') ?? ''}' was not found in the directory.`,
      );
    }
    if (!sameText(form.get('client_secret') ?? '', client.clientSecret)) {
      return tokenError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, ` +
          `not the client secret ID, for a secret added to app '${client.clientId}'.`,
      );
    }
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
    for (const [token, known] of tokens) if (known.expires <= Date.now()) tokens.delete(token);
    const accessToken = randomBytes(32).toString('base64url');
    tokens.set(accessToken, { expires, resource: scope.slice(0, -'/.default'.length) });
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

  function send(
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    response.writeHead(status, {
      ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      'content-length': String(Buffer.byteLength(text)),
      'x-ms-request-id': randomUUID(),
      ...headers,
    });
    response.end(text);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = Date.now();
    const requestUrl = new URL(request.url ?? '/', 'https://emulator.invalid');
    const method = request.method ?? 'GET';
    const record: RequestRecord = { method, path: requestUrl.pathname, status: undefined };
    requests.push(record);
    if (requests.length > MAX_RECORDS) requests.splice(0, requests.length - MAX_RECORDS);
    response.once('finish', () => {
      record.status = response.statusCode;
      options.log?.(
        `${new Date().toISOString()} ${method} ${requestUrl.pathname} ${response.statusCode} ${Date.now() - started}ms`,
      );
    });
    let raw: string;
    try {
      raw = await readBody(request);
    } catch (error) {
      send(response, 413, { error: { code: 'BadParameter', message: (error as Error).message } });
      return;
    }
    try {
      const segments = requestUrl.pathname.split('/').slice(1).map(decodePath);
      // `/secrets/{name}/` (empty version) means the current version.
      if (segments.length > 1 && segments.at(-1) === '') segments.pop();
      const fromIdentity = identity(method, segments, raw);
      if (fromIdentity) {
        send(response, fromIdentity.status, fromIdentity.body);
        return;
      }
      authenticate(request.headers.authorization);
      const fault = faults.shift();
      if (fault === 'hang') return; // stop() or the client's timeout ends it
      if (fault) {
        send(
          response,
          fault.status,
          fault.body ?? { error: { code: 'Throttled', message: 'fault injected' } },
          fault.headers,
        );
        return;
      }
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        throw vaultError(400, 'BadParameter', 'The request body is not valid JSON.');
      }
      const result = vault(method, segments, requestUrl.searchParams, body);
      send(response, result.status, result.body);
    } catch (error) {
      if (error instanceof HttpError) {
        send(response, error.status, { error: { code: error.code, message: error.message } }, error.headers);
      } else {
        send(response, 500, { error: { code: 'InternalError', message: String(error) } });
      }
    }
  }

  async function start(): Promise<void> {
    if (server) return;
    const created = https.createServer({ cert, key }, (request, response) => {
      void handle(request, response);
    });
    created.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      created.once('error', reject);
      created.listen(port, host, () => {
        created.off('error', reject);
        resolve();
      });
    });
    const address = created.address();
    if (typeof address === 'object' && address) port = address.port;
    url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    server = created;
  }

  async function stop(): Promise<void> {
    const current = server;
    if (!current) return;
    server = undefined;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  await start();
  return {
    get url() {
      return url;
    },
    get authorityHost() {
      return url;
    },
    ca: cert,
    caFile: certFile,
    tenantId: client.tenantId,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    requests,
    failNext(count: number, reply: FaultReply) {
      for (let i = 0; i < count; i++) faults.push(reply);
    },
    stop,
    start,
  };
}

function decodePath(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'BadParameter', 'The request path is not valid percent-encoding.');
  }
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () =>
      size > MAX_BODY_BYTES
        ? reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`))
        : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    request.on('error', reject);
  });
}

/** cert.pem and key.pem in `dir`, made with the openssl CLI the first time. */
function certificate(dir: string): { cert: string; key: string; certFile: string } {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  if (!fs.existsSync(certFile) || !fs.existsSync(keyFile)) {
    const tmpCert = `${certFile}.tmp-${process.pid}`;
    const tmpKey = `${keyFile}.tmp-${process.pid}`;
    // CA:TRUE so that Node accepts the certificate itself as the trust anchor (`ca`).
    const result = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '3650',
        '-subj',
        '/CN=berth-keyvault-emulator',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-keyout',
        tmpKey,
        '-out',
        tmpCert,
      ],
      { encoding: 'utf8' },
    );
    if (result.error || result.status !== 0) {
      throw new Error(
        `keyvault emulator: openssl req failed: ${result.error?.message ?? ''}${result.stderr ?? ''}`.trim(),
      );
    }
    fs.chmodSync(tmpKey, 0o600);
    fs.renameSync(tmpKey, keyFile);
    fs.renameSync(tmpCert, certFile);
  }
  return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8'), certFile };
}

/** client.json in `dir`: the tenant and the one app registration the token endpoint knows. */
function clientConfig(
  dir: string,
  options: KeyVaultEmulatorOptions,
): { tenantId: string; clientId: string; clientSecret: string } {
  const file = path.join(dir, 'client.json');
  let saved: Partial<Record<'tenantId' | 'clientId' | 'clientSecret', string>> = {};
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof saved;
  } catch {
    // first start
  }
  const config = {
    tenantId: options.tenantId ?? saved.tenantId ?? randomUUID(),
    clientId: options.clientId ?? saved.clientId ?? randomUUID(),
    // URL-safe, so it can travel in env files and shell lines unquoted.
    clientSecret: options.clientSecret ?? saved.clientSecret ?? randomBytes(24).toString('base64url'),
  };
  const text = `${JSON.stringify(config, null, 2)}\n`;
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) {
    fs.writeFileSync(`${file}.tmp-${process.pid}`, text, { mode: 0o600 });
    fs.renameSync(`${file}.tmp-${process.pid}`, file);
  }
  return config;
}

async function main(argv: string[]): Promise<void> {
  const options: KeyVaultEmulatorOptions = { log: (line) => process.stdout.write(`${line}\n`) };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag}: missing value`);
    if (flag === '--port') options.port = Number(value);
    else if (flag === '--dir') options.dir = path.resolve(value);
    else if (flag === '--host') options.host = value;
    else throw new Error(`unknown option ${flag}; usage: keyvault-emulator.ts --port N --dir DIR [--host H]`);
  }
  if (options.port === undefined || !Number.isInteger(options.port)) throw new Error('--port N is required');
  if (options.dir === undefined) throw new Error('--dir DIR is required');
  const emulator = await startKeyVaultEmulator(options);
  process.stdout.write(
    `keyvault emulator on ${emulator.url} (certificate ${emulator.caFile}, client ${path.join(options.dir, 'client.json')})\n`,
  );
  const shutdown = () => {
    void emulator.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`keyvault emulator: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
