// Azure Key Vault without Azure: Lowkey Vault, a Spring Boot jar from Maven Central
// (com.github.nagyesta.lowkey-vault:lowkey-vault-app). 3.x is its last line on Java 17 (4.x
// needs Java 21, 5.x Java 25). It serves the vault API over HTTPS on `server.port` with a
// built-in self-signed certificate (SANs: localhost, 127.0.0.1, *.localhost, …) and, on
// `app.token.port`, plain-HTTP metadata: fake managed-identity tokens and that certificate's
// PKCS#12 store (`/metadata/default-cert/lowkey-vault.p12`, password at `…/password`).
// `answers()` turns the store into a PEM in the state folder (with `keytool` from the JRE) and
// trusts only that PEM, for its own request only; tests get it as AZURE_KEYVAULT_CA_FILE.
//
// Authentication: any `Authorization` header is accepted (a request without one gets 401 and
// a `WWW-Authenticate: Bearer` challenge, as Azure does). Vaults registered by default:
// https://127.0.0.1:<port> and https://localhost:<port>.
//
// The jar comes from whatever Maven repository `mvn` reaches. Where that repository does not
// hold it (`mvn` says "not found"), the installer remembers that for a week in the cache folder
// and reports the service as unavailable, so tests skip rather than fail; a jar you have can be
// named with BERTH_KEYVAULT_JAR.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import {
  cacheHome,
  HOST,
  log,
  portFromEnv,
  which,
  type ServiceContext,
  type ServiceDefinition,
} from './support.ts';

const GROUP = 'com.github.nagyesta.lowkey-vault';
const ARTIFACT = 'lowkey-vault-app';
export const LOWKEY_VAULT_VERSION = '3.4.33';
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const API_VERSION = '7.4';
const UNAVAILABLE_FOR_MS = 7 * 24 * 3600_000;

const cacheDir = (): string => path.join(cacheHome(), 'berth', `lowkey-vault-${LOWKEY_VAULT_VERSION}`);
const unavailableMarker = (): string => path.join(cacheDir(), 'not-in-maven-repository');

function jarPath(): string {
  return (
    process.env['BERTH_KEYVAULT_JAR'] || path.join(cacheDir(), `${ARTIFACT}-${LOWKEY_VAULT_VERSION}.jar`)
  );
}

/** The PEM of the emulator's certificate, written by `answers()`. */
export function keyVaultCaFile(ctx: ServiceContext): string {
  return path.join(ctx.dir, 'lowkey-vault.pem');
}

const tokenPort = (ctx: ServiceContext): number => ctx.port + 1;

/** Major version of `java` on PATH, else undefined. */
function javaMajor(): number | undefined {
  if (which('java') === undefined) return undefined;
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr ?? ''}${result.stdout ?? ''}`);
  if (!match) return undefined;
  const major = Number(match[1]);
  return major === 1 ? Number(match[2]) : major; // "1.8.0" style
}

function missingTools(): string[] {
  const missing: string[] = [];
  const java = javaMajor();
  if (java === undefined || java < 17) {
    missing.push(
      java === undefined ? 'java (>= 17; Debian: openjdk-17-jre-headless)' : `java >= 17 (found ${java})`,
    );
  }
  if (which('keytool') === undefined) missing.push('keytool (comes with the JRE)');
  if (!process.env['BERTH_KEYVAULT_JAR'] && which('mvn') === undefined) missing.push('mvn (Debian: maven)');
  return missing;
}

function knownUnavailable(): boolean {
  try {
    return Date.now() - fs.statSync(unavailableMarker()).mtimeMs < UNAVAILABLE_FOR_MS;
  } catch {
    return false;
  }
}

async function install(): Promise<void> {
  const missing = missingTools();
  if (missing.length > 0) throw new Error(`keyvault (Lowkey Vault) needs ${missing.join(', ')}`);
  if (process.env['BERTH_KEYVAULT_JAR']) {
    throw new Error(`keyvault: BERTH_KEYVAULT_JAR=${process.env['BERTH_KEYVAULT_JAR']} does not exist`);
  }
  const dir = cacheDir();
  fs.mkdirSync(dir, { recursive: true });
  const args = [
    '-B',
    '-q',
    `${DEPENDENCY_PLUGIN}:copy`,
    `-Dartifact=${GROUP}:${ARTIFACT}:${LOWKEY_VAULT_VERSION}`,
    `-DoutputDirectory=${dir}`,
  ];
  log(`keyvault: $ mvn ${args.join(' ')}`);
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn('mvn', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const collect = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      process.stderr.write(chunk); // stdout carries only env lines
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (exitCode) => resolve({ code: exitCode, output: text }));
  });
  if (code === 0) {
    fs.rmSync(unavailableMarker(), { force: true });
    return;
  }
  if (/was not found in|Could not find artifact/.test(output)) {
    fs.writeFileSync(
      unavailableMarker(),
      `${new Date().toISOString()} mvn: ${GROUP}:${ARTIFACT}:${LOWKEY_VAULT_VERSION} not found\n`,
    );
    throw new Error(
      `keyvault: ${GROUP}:${ARTIFACT}:${LOWKEY_VAULT_VERSION} is not in the Maven repository this machine reaches; ` +
        `marked unavailable for a week (${unavailableMarker()}); point BERTH_KEYVAULT_JAR at a copy of the jar, ` +
        `or run it with Docker (docker-compose.test.yml)`,
    );
  }
  throw new Error(`keyvault: mvn failed (exit ${code}); see its output above`);
}

export const keyvault: ServiceDefinition = {
  install: {
    describe: `mvn dependency:copy of ${GROUP}:${ARTIFACT}:${LOWKEY_VAULT_VERSION} into ${cacheDir()}`,
    isInstalled: () => fs.existsSync(jarPath()),
    canInstall: () => !knownUnavailable() && missingTools().length === 0,
    install,
  },
  port: () => portFromEnv('BERTH_KEYVAULT_PORT', 18443),
  command: (ctx) => ({
    command: 'java',
    args: [
      '-Xms64m',
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-jar',
      jarPath(),
      `--server.port=${ctx.port}`,
      // Binds the HTTPS connector only: Lowkey Vault adds its token connector itself, on all
      // interfaces (it serves fake tokens and the public default certificate, nothing else).
      `--server.address=${HOST}`,
      `--app.token.port=${tokenPort(ctx)}`,
    ],
  }),
  answers: async (ctx) => {
    try {
      const ca = await caPem(ctx);
      if (ca === undefined) return false;
      const reply = await vaultRequest(
        ctx.port,
        ca,
        'GET',
        `/secrets?api-version=${API_VERSION}`,
        undefined,
        2000,
      );
      return reply.status === 200 && Array.isArray((JSON.parse(reply.body) as { value?: unknown }).value);
    } catch (error) {
      if (isCertificateError(error)) fs.rmSync(keyVaultCaFile(ctx), { force: true }); // fetch it anew
      return false;
    }
  },
  env: (ctx) => ({
    AZURE_KEYVAULT_URL: `https://${HOST}:${ctx.port}`,
    AZURE_KEYVAULT_CA_FILE: keyVaultCaFile(ctx),
  }),
  startTimeoutMs: 90_000,
  processMatch: '--app.token.port=', // in our command line whatever the jar is called
};

/** The emulator's certificate as PEM: from the state folder, else fetched from its token port. */
async function caPem(ctx: ServiceContext): Promise<string | undefined> {
  const file = keyVaultCaFile(ctx);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    // not fetched yet
  }
  const store = await httpGet(tokenPort(ctx), '/metadata/default-cert/lowkey-vault.p12');
  const password = (await httpGet(tokenPort(ctx), '/metadata/default-cert/password')).toString('utf8').trim();
  if (store.length === 0 || password === '') return undefined;
  const storeFile = path.join(ctx.dir, 'lowkey-vault.p12');
  fs.writeFileSync(storeFile, store);
  const listed = spawnSync(
    'keytool',
    ['-list', '-rfc', '-keystore', storeFile, '-storetype', 'PKCS12', '-storepass', password],
    { encoding: 'utf8' },
  );
  const pem = (listed.stdout ?? '').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (listed.status !== 0 || !pem) return undefined;
  const text = `${pem.join('\n')}\n`;
  fs.writeFileSync(`${file}.tmp-${process.pid}`, text);
  fs.renameSync(`${file}.tmp-${process.pid}`, file);
  return text;
}

function httpGet(port: number, pathname: string, timeoutMs = 1000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: HOST, port, path: pathname, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        response.statusCode === 200
          ? resolve(Buffer.concat(chunks))
          : reject(new Error(`GET ${pathname}: HTTP ${response.statusCode}`)),
      );
      response.on('error', reject);
    });
    request.on('timeout', () =>
      request.destroy(new Error(`GET ${pathname}: no reply within ${timeoutMs} ms`)),
    );
    request.on('error', reject);
  });
}

/**
 * One request to the vault API at https://127.0.0.1:<port>, trusting only `ca` (the emulator's
 * own certificate), with a fake bearer token (Lowkey Vault wants one, whatever it says).
 */
export function vaultRequest(
  port: number,
  ca: string,
  method: string,
  pathname: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = https.request(
      {
        host: HOST,
        port,
        method,
        path: pathname,
        ca,
        agent: false,
        timeout: timeoutMs,
        headers: {
          authorization: 'Bearer berth-fake-token',
          accept: 'application/json',
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () =>
      request.destroy(new Error(`${method} ${pathname}: no reply within ${timeoutMs} ms`)),
    );
    request.on('error', reject);
    request.end(payload);
  });
}

function isCertificateError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code);
}
