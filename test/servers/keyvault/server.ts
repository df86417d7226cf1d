// A small Azure Key Vault emulator, secrets only, for tests: the vault REST API plus just enough
// of Microsoft Entra ID (OpenID metadata and a client-credentials token endpoint) for the real
// @azure/keyvault-secrets SecretClient and @azure/identity ClientSecretCredential, over HTTPS with
// a certificate of the run's CA (../certificates.ts), which clients trust explicitly (`ca`). State
// lives in memory.
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
// CLI: node test/servers/keyvault/server.ts --port N --dir DIR [--host 127.0.0.1]
// writes tls/ (the CA and the server's certificate) and client.json (tenantId, clientId,
// clientSecret) into DIR once and reuses them, then serves in the foreground, logging one line per
// request (never a body).
//
// Here the listener, fault injection and the CLI; the routes live in vault-routes.ts and
// identity-routes.ts.
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runCertificates } from '../certificates.ts';
import { HttpError, pathSegments, readBody, send, sendError } from './http.ts';
import { appRegistration, IdentityRoutes, type AppRegistration } from './identity-routes.ts';
import { VaultRoutes } from './vault-routes.ts';

export interface KeyVaultEmulatorOptions {
  /** 0 (the default) picks a free port; `start()` after `stop()` reuses the same one. */
  port?: number;
  host?: string;
  /** Where tls/ and client.json live (reused when present); default a new temp dir. */
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
  /** PEM of the CA that signed the server's certificate, to trust as `ca`. */
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

const MAX_RECORDS = 10_000; // of `requests`, so a long-running CLI does not grow without bound

export async function startKeyVaultEmulator(
  options: KeyVaultEmulatorOptions = {},
): Promise<KeyVaultEmulator> {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'berth-keyvault-'));
  fs.mkdirSync(dir, { recursive: true });
  const server = new EmulatorServer(options, dir);
  await server.start();
  const { ca, caFile, client, requests } = server;
  return {
    get url() {
      return server.url;
    },
    get authorityHost() {
      return server.url;
    },
    ca,
    caFile,
    tenantId: client.tenantId,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    requests,
    failNext: (count, reply) => server.failNext(count, reply),
    stop: () => server.stop(),
    start: () => server.start(),
  };
}

/** The HTTPS listener: records each request, then identity routes, authentication, faults, vault. */
class EmulatorServer {
  readonly ca: string;
  readonly caFile: string;
  readonly client: AppRegistration;
  readonly requests: RequestRecord[] = [];
  url = '';
  readonly #cert: string;
  readonly #key: string;
  readonly #host: string;
  readonly #log: ((line: string) => void) | undefined;
  readonly #identity: IdentityRoutes;
  readonly #vault: VaultRoutes;
  readonly #faults: FaultReply[] = [];
  // Every socket, TLS handshakes included (closeAllConnections knows only HTTP connections).
  readonly #sockets = new Set<Socket>();
  #port: number;
  #server: https.Server | undefined;

  constructor(options: KeyVaultEmulatorOptions, dir: string) {
    const certificates = runCertificates(dir);
    this.ca = fs.readFileSync(certificates.caFile, 'utf8');
    this.caFile = certificates.caFile;
    this.#cert = fs.readFileSync(certificates.serverCertFile, 'utf8');
    this.#key = fs.readFileSync(certificates.serverKeyFile, 'utf8');
    this.client = appRegistration(dir, options);
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 0;
    this.#log = options.log;
    this.#identity = new IdentityRoutes(this.client, () => this.url);
    this.#vault = new VaultRoutes(() => this.url);
  }

  failNext(count: number, reply: FaultReply): void {
    for (let i = 0; i < count; i++) this.#faults.push(reply);
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const created = https.createServer({ cert: this.#cert, key: this.#key }, (request, response) => {
      void this.#handle(request, response);
    });
    created.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      created.once('error', reject);
      created.listen(this.#port, this.#host, () => {
        created.off('error', reject);
        resolve();
      });
    });
    const address = created.address();
    if (typeof address === 'object' && address) this.#port = address.port;
    this.url = `https://${this.#host.includes(':') ? `[${this.#host}]` : this.#host}:${this.#port}`;
    this.#server = created;
  }

  async stop(): Promise<void> {
    const current = this.#server;
    if (!current) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestUrl = new URL(request.url ?? '/', 'https://emulator.invalid');
    const method = request.method ?? 'GET';
    this.#record(method, requestUrl.pathname, response);
    let raw: string;
    try {
      raw = await readBody(request);
    } catch (error) {
      send(response, 413, { error: { code: 'BadParameter', message: (error as Error).message } });
      return;
    }
    try {
      this.#answer(method, requestUrl, request.headers.authorization, raw, response);
    } catch (error) {
      sendError(response, error);
    }
  }

  #record(method: string, pathname: string, response: ServerResponse): void {
    const started = Date.now();
    const record: RequestRecord = { method, path: pathname, status: undefined };
    this.requests.push(record);
    if (this.requests.length > MAX_RECORDS) this.requests.splice(0, this.requests.length - MAX_RECORDS);
    response.once('finish', () => {
      record.status = response.statusCode;
      this.#log?.(
        `${new Date().toISOString()} ${method} ${pathname} ${response.statusCode} ${Date.now() - started}ms`,
      );
    });
  }

  #answer(
    method: string,
    requestUrl: URL,
    authorization: string | undefined,
    raw: string,
    response: ServerResponse,
  ): void {
    const segments = pathSegments(requestUrl.pathname);
    const fromIdentity = this.#identity.route(method, segments, raw);
    if (fromIdentity) {
      send(response, fromIdentity.status, fromIdentity.body);
      return;
    }
    this.#identity.authenticate(authorization);
    const fault = this.#faults.shift();
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
      throw new HttpError(400, 'BadParameter', 'The request body is not valid JSON.');
    }
    const result = this.#vault.route(method, segments, requestUrl.searchParams, body);
    send(response, result.status, result.body);
  }
}

async function main(argv: string[]): Promise<void> {
  const options: KeyVaultEmulatorOptions = { log: (line) => process.stdout.write(`${line}\n`) };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag}: missing value`);
    if (flag === '--port') options.port = Number(value);
    else if (flag === '--dir') options.dir = path.resolve(value);
    else if (flag === '--host') options.host = value;
    else throw new Error(`unknown option ${flag}; usage: keyvault/server.ts --port N --dir DIR [--host H]`);
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

if (import.meta.main) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`keyvault emulator: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
