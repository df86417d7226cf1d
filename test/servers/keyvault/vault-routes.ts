// The Key Vault secrets REST API (`/secrets`, `/deletedsecrets`) over secrets kept in memory:
// versions, properties, soft delete with recover and purge, paging with `maxresults` and
// `$skiptoken`, and Azure's error codes.
import { randomBytes } from 'node:crypto';
import { HttpError, type Reply } from './http.ts';

const MAX_VALUE_BYTES = 25_600;
const MAX_PAGE = 25;
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

/** A request to a named secret: `/<collection>/<name>[/<sub>]`. */
interface SecretRequest {
  readonly method: string;
  readonly name: string;
  /** A version, `versions` or `recover`; undefined for the secret itself. */
  readonly sub: string | undefined;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

const now = (): number => Math.floor(Date.now() / 1000);
const current = (secret: Secret): Version => secret.versions.at(-1) as Version;
const badParameter = (message: string) => new HttpError(400, 'BadParameter', message);
const noRoute = (method: string, segments: readonly string[]) =>
  new HttpError(404, 'NotFound', `No route for ${method} /${segments.join('/')}`);
const methodNotAllowed = (method: string) =>
  new HttpError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
const notFound = (name: string, version = '') =>
  new HttpError(
    404,
    'SecretNotFound',
    `A secret with (name/id) ${version ? `${name}/${version}` : name} was not found in this key vault. ` +
      'If you recently deleted this secret you may be able to recover it using the correct recovery command.',
  );

export class VaultRoutes {
  readonly #secrets = new Map<string, Secret>();
  readonly #baseUrl: () => string;

  /** `baseUrl` is read per request: the port is known only once the server listens. */
  constructor(baseUrl: () => string) {
    this.#baseUrl = baseUrl;
  }

  /** An authenticated vault request; throws HttpError for Azure's error replies. */
  route(method: string, segments: readonly string[], query: URLSearchParams, body: unknown): Reply {
    if (!query.get('api-version')) throw badParameter('The api-version query parameter is missing.');
    const [collection, name, sub, fourth, ...extra] = segments;
    if (extra.length > 0 || (collection !== 'secrets' && collection !== 'deletedsecrets')) {
      throw noRoute(method, segments);
    }
    if (name === undefined) {
      if (method !== 'GET') throw methodNotAllowed(method);
      return collection === 'secrets' ? this.#listSecrets(query) : this.#listDeleted(query);
    }
    if (collection === 'secrets' && !NAME.test(name)) {
      throw badParameter(`The secret name '${name}' is invalid: use 1-127 letters, digits and dashes.`);
    }
    if (fourth !== undefined) throw noRoute(method, segments);
    const request = { method, name, sub, query, body };
    return collection === 'secrets' ? this.#secret(request) : this.#deletedSecret(request, segments);
  }

  #secret({ method, name, sub, query, body }: SecretRequest): Reply {
    if (sub === 'versions') {
      if (method !== 'GET') throw methodNotAllowed(method);
      return this.#listVersions(name, query);
    }
    if (method === 'PUT' && sub === undefined) return this.#set(name, objectBody(body));
    if (method === 'GET') {
      const secret = this.#live(name);
      const found = findVersion(secret, sub ?? '');
      if (!found.attributes.enabled) {
        throw new HttpError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.');
      }
      return { status: 200, body: this.#bundle(secret, found, true) };
    }
    if (method === 'PATCH') {
      const secret = this.#live(name);
      const found = findVersion(secret, sub ?? '');
      const input = objectBody(body);
      if (input['value'] !== undefined) throw badParameter('PATCH cannot change the value');
      applyProperties(found, input);
      found.attributes.updated = now();
      return { status: 200, body: this.#bundle(secret, found, false) };
    }
    if (method === 'DELETE' && sub === undefined) {
      const secret = this.#live(name);
      const deletedDate = now();
      secret.deleted = { deletedDate, scheduledPurgeDate: deletedDate + RECOVERABLE_DAYS * 86400 };
      return { status: 200, body: this.#deletedBundle(secret) };
    }
    throw methodNotAllowed(method);
  }

  #set(name: string, input: Record<string, unknown>): Reply {
    if (typeof input['value'] !== 'string') throw badParameter('value must be a string');
    if (Buffer.byteLength(input['value']) > MAX_VALUE_BYTES) {
      throw badParameter(`The secret value is larger than ${MAX_VALUE_BYTES} bytes.`);
    }
    let secret = this.#secrets.get(name);
    if (secret?.deleted) {
      throw new HttpError(
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
      this.#secrets.set(name, secret);
    }
    secret.versions.push(created);
    return { status: 200, body: this.#bundle(secret, created, true) };
  }

  #deletedSecret({ method, name, sub }: SecretRequest, segments: readonly string[]): Reply {
    if (sub === 'recover') {
      if (method !== 'POST') throw methodNotAllowed(method);
      const secret = this.#deleted(name);
      delete secret.deleted;
      return { status: 200, body: this.#bundle(secret, current(secret), false) };
    }
    if (sub !== undefined) throw noRoute(method, segments);
    if (method === 'GET') return { status: 200, body: this.#deletedBundle(this.#deleted(name)) };
    if (method === 'DELETE') {
      this.#secrets.delete(this.#deleted(name).name);
      return { status: 204, body: undefined };
    }
    throw methodNotAllowed(method);
  }

  #listSecrets(query: URLSearchParams): Reply {
    const live = this.#sorted().filter((s) => !s.deleted);
    return {
      status: 200,
      body: this.#page(
        live.map((s) => this.#item(s, current(s), false)),
        query,
        '/secrets',
      ),
    };
  }

  #listVersions(name: string, query: URLSearchParams): Reply {
    const secret = this.#secrets.get(name);
    const versions = secret && !secret.deleted ? secret.versions : [];
    const items = versions.map((v) => this.#item(secret as Secret, v, true));
    return { status: 200, body: this.#page(items, query, `/secrets/${name}/versions`) };
  }

  #listDeleted(query: URLSearchParams): Reply {
    const items = this.#sorted()
      .filter((s) => s.deleted)
      .map((s) => {
        const { id: _id, ...rest } = this.#deletedBundle(s);
        return { id: `${this.#baseUrl()}/secrets/${s.name}`, ...rest };
      });
    return { status: 200, body: this.#page(items, query, '/deletedsecrets') };
  }

  #sorted(): Secret[] {
    return [...this.#secrets.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  #live(name: string): Secret {
    const secret = this.#secrets.get(name);
    if (!secret || secret.deleted) throw notFound(name);
    return secret;
  }

  #deleted(name: string): Secret {
    const secret = this.#secrets.get(name);
    if (!secret?.deleted) throw new HttpError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
    return secret;
  }

  #bundle(secret: Secret, version: Version, withValue: boolean) {
    return {
      ...(withValue ? { value: version.value } : {}),
      id: `${this.#baseUrl()}/secrets/${secret.name}/${version.version}`,
      ...(version.contentType === undefined ? {} : { contentType: version.contentType }),
      ...(version.tags === undefined ? {} : { tags: version.tags }),
      attributes: {
        ...version.attributes,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: RECOVERABLE_DAYS,
      },
    };
  }

  #deletedBundle(secret: Secret) {
    return {
      ...this.#bundle(secret, current(secret), false),
      recoveryId: `${this.#baseUrl()}/deletedsecrets/${secret.name}`,
      deletedDate: secret.deleted?.deletedDate,
      scheduledPurgeDate: secret.deleted?.scheduledPurgeDate,
    };
  }

  #item(secret: Secret, version: Version, versioned: boolean) {
    const { id, ...rest } = this.#bundle(secret, version, false);
    return { id: versioned ? id : `${this.#baseUrl()}/secrets/${secret.name}`, ...rest };
  }

  #page(items: unknown[], query: URLSearchParams, pathname: string) {
    const max = query.get('maxresults') === null ? MAX_PAGE : Number(query.get('maxresults'));
    if (!Number.isInteger(max) || max < 1 || max > MAX_PAGE) {
      throw badParameter(`maxresults must be an integer from 1 to ${MAX_PAGE}`);
    }
    const skip = query.get('$skiptoken') === null ? 0 : Number(query.get('$skiptoken'));
    if (!Number.isInteger(skip) || skip < 0) throw badParameter('invalid $skiptoken');
    const end = skip + max;
    let nextLink: string | null = null;
    if (end < items.length) {
      const next = new URLSearchParams({
        'api-version': query.get('api-version') ?? '',
        $skiptoken: String(end),
        maxresults: String(max),
      });
      nextLink = `${this.#baseUrl()}${pathname}?${next.toString()}`;
    }
    return { value: items.slice(skip, end), nextLink };
  }
}

function objectBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badParameter('The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

function findVersion(secret: Secret, version: string): Version {
  const found = version ? secret.versions.find((v) => v.version === version) : current(secret);
  if (!found) throw notFound(secret.name, version);
  return found;
}

/** Applies `contentType`, `tags` and `attributes` from a PUT or PATCH body. */
function applyProperties(version: Version, body: Record<string, unknown>): void {
  if (body['contentType'] !== undefined) {
    if (typeof body['contentType'] !== 'string') throw badParameter('contentType');
    version.contentType = body['contentType'];
  }
  if (body['tags'] !== undefined) version.tags = stringTags(body['tags']);
  const attributes = body['attributes'];
  if (attributes === undefined || attributes === null) return;
  if (typeof attributes !== 'object') throw badParameter('attributes');
  const { enabled, nbf, exp } = attributes as Record<string, unknown>;
  if (enabled !== undefined && enabled !== null) {
    if (typeof enabled !== 'boolean') throw badParameter('attributes.enabled');
    version.attributes.enabled = enabled;
  }
  for (const [field, time] of [
    ['nbf', nbf],
    ['exp', exp],
  ] as const) {
    if (time === undefined || time === null) continue;
    if (typeof time !== 'number' || !Number.isInteger(time)) {
      throw badParameter(`attributes.${field} must be unix seconds`);
    }
    version.attributes[field] = time;
  }
}

function stringTags(tags: unknown): Record<string, string> {
  if (
    tags === null ||
    typeof tags !== 'object' ||
    Array.isArray(tags) ||
    !Object.values(tags).every((tag) => typeof tag === 'string')
  ) {
    throw badParameter('tags must be an object of strings');
  }
  return { ...(tags as Record<string, string>) };
}
