// berth's SQL Server test server: TDS 7.4 over TCP (TLS when the client asks) in front of SQLite
// (node:sqlite), so the real `mssql`/`tedious` driver can be tested where SQL Server cannot be
// installed. The protocol is served in full (login, batches, sp_executesql with typed parameters,
// transactions, ATTENTION, packet splitting, backpressure); T-SQL is a documented subset
// (translate.ts, README.md). Errors carry SQL Server's numbers: 2627/2601, 208, 102, 515, 1222, 18456.
//
// CLI: node test/servers/tds/server.ts --port N --dir DIR [--host 127.0.0.1]
//        [--user sa] [--lock-timeout-ms 5000]
// The user's password is DIR/sa.password (made once, reused), databases are DIR/<name>.sqlite
// (master and berth exist), the TLS certificate and its CA in DIR/tls (../certificates.ts, made
// with openssl when there is one); one log line per connection, never SQL text.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { keptPassword } from '../passwords.ts';
import { Engine } from './engine.ts';
import { Session } from './session.ts';
import { serverCertificate } from './tls.ts';

export const DEFAULT_USER = 'sa';
/** SQL Server waits for ever by default; the test server gives up sooner so a stuck test fails. */
export const DEFAULT_LOCK_TIMEOUT_MS = 5000;

export interface TdsServerOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Databases and sa.password; a new temporary folder when absent. */
  readonly dir?: string;
  readonly user?: string;
  readonly password?: string;
  readonly lockTimeoutMs?: number;
  /** Offer TLS (a certificate of the run's CA, made with openssl in `dir/tls`); default true. */
  readonly tls?: boolean;
  /** PEM key and certificate to offer instead of the one in `dir/tls`. */
  readonly certificate?: { readonly key: string; readonly cert: string };
  /** As SQL Server's Force Encryption: a client that will not encrypt is refused at PRELOGIN. */
  readonly requireEncryption?: boolean;
  readonly log?: (line: string) => void;
}

export interface TdsServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly dir: string;
  /** Whether clients asking for encryption get it (false without openssl). */
  readonly tls: boolean;
  close(): Promise<void>;
}

/** A password SQL Server's policy would accept (upper, lower, digit, symbol), safe in a URL and a shell. */
export const readOrCreatePassword = (dir: string): string =>
  keptPassword(path.join(dir, 'sa.password'), { make: () => `Berth-${randomBytes(12).toString('hex')}-Aa1` });

export async function startTdsServer(options: TdsServerOptions = {}): Promise<TdsServer> {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tds-'));
  const engine = new Engine(dir);
  const user = options.user ?? DEFAULT_USER;
  const password = options.password ?? readOrCreatePassword(dir);
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const certificate = options.tls === false ? undefined : (options.certificate ?? serverCertificate(dir));
  if (options.requireEncryption && certificate === undefined)
    throw new Error('requireEncryption needs a certificate (openssl, or certificate)');
  const secureContext = certificate ? tls.createSecureContext(certificate) : undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new Session(socket, {
      engine,
      tls: secureContext,
      requireEncryption: options.requireEncryption ?? false,
      user,
      password,
      lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      log,
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host,
    port,
    user,
    password,
    dir,
    tls: secureContext !== undefined,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await new Promise((resolve) => setImmediate(resolve));
      engine.close();
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      dir: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      user: { type: 'string', default: DEFAULT_USER },
      'lock-timeout-ms': { type: 'string', default: String(DEFAULT_LOCK_TIMEOUT_MS) },
      'cert-file': { type: 'string' },
      'key-file': { type: 'string' },
      'require-encryption': { type: 'boolean', default: false },
    },
  });
  if (!values.port || !values.dir) {
    process.stderr.write(
      'usage: node test/servers/tds/server.ts --port N --dir DIR [--host H] [--user sa]\n',
    );
    process.exitCode = 2;
    return;
  }
  const log = (line: string): void => {
    process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  };
  const server = await startTdsServer({
    port: Number(values.port),
    host: values.host,
    dir: values.dir,
    user: values.user,
    lockTimeoutMs: Number(values['lock-timeout-ms']),
    ...(values['cert-file'] && values['key-file']
      ? {
          certificate: {
            cert: fs.readFileSync(values['cert-file'], 'utf8'),
            key: fs.readFileSync(values['key-file'], 'utf8'),
          },
        }
      : {}),
    requireEncryption: values['require-encryption'],
    log,
  });
  log(
    `TDS test server on ${server.host}:${server.port}, user ${server.user}, databases in ${server.dir}, ` +
      (server.tls ? (values['require-encryption'] ? 'TLS required' : 'TLS offered') : 'no TLS (no openssl)'),
  );
  const stop = (): void => {
    log('stopping');
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.main) await main();
