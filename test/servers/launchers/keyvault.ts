// Azure Key Vault (secrets) without Azure: our own emulator, test/servers/keyvault/server.ts,
// run with this Node. Lowkey Vault, the Java emulator, cannot be fetched on these machines (it is
// not in the Maven repository they reach); docker-compose.test.yml and the Testcontainers
// fallback in test/support/servers.ts still use it where Docker is available.
//
// The emulator serves HTTPS with a certificate of the run's CA and acts as the Entra ID token
// endpoint too: the state folder holds tls/ca.pem (AZURE_KEYVAULT_CA_FILE) and client.json (the
// tenant, client id and client secret it accepts), kept across restarts.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCertificateFiles } from '../certificates.ts';
import { aptInstaller } from './apt-installer.ts';
import { HOST, portFromEnv, type ServiceContext, type ServiceDefinition } from './definition.ts';

/** The Lowkey Vault image docker-compose.test.yml and the Testcontainers fallback run. */
export const LOWKEY_VAULT_VERSION = '3.4.33';
const API_VERSION = '7.4';
const EMULATOR = fileURLToPath(new URL('../keyvault/server.ts', import.meta.url));

interface Client {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

const caFile = (ctx: ServiceContext): string => runCertificateFiles(ctx.dir).caFile;
const vaultUrl = (ctx: ServiceContext): string => `https://${HOST}:${ctx.port}`;

function client(ctx: ServiceContext): Client {
  return JSON.parse(fs.readFileSync(path.join(ctx.dir, 'client.json'), 'utf8')) as Client;
}

export const keyvault: ServiceDefinition = {
  install: aptInstaller({ openssl: 'openssl' }), // makes the certificate
  port: () => portFromEnv('BERTH_KEYVAULT_PORT', 18443),
  command: (ctx) => ({
    command: process.execPath,
    args: [EMULATOR, '--port', String(ctx.port), '--dir', ctx.dir, '--host', HOST],
  }),
  answers: async (ctx) => {
    try {
      const ca = fs.readFileSync(caFile(ctx), 'utf8');
      const { tenantId, clientId, clientSecret } = client(ctx);
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        scope: 'https://vault.azure.net/.default',
      }).toString();
      const token = await request(
        ctx.port,
        ca,
        'POST',
        `/${tenantId}/oauth2/v2.0/token`,
        { 'content-type': 'application/x-www-form-urlencoded' },
        form,
      );
      if (token.status !== 200) return false;
      const accessToken = (JSON.parse(token.body) as { access_token?: unknown }).access_token;
      if (typeof accessToken !== 'string') return false;
      const listed = await request(ctx.port, ca, 'GET', `/secrets?api-version=${API_VERSION}`, {
        authorization: `Bearer ${accessToken}`,
      });
      return listed.status === 200 && Array.isArray((JSON.parse(listed.body) as { value?: unknown }).value);
    } catch {
      return false; // not up yet (no certificate or client.json yet, refused, …)
    }
  },
  env: (ctx) => {
    const env: Record<string, string> = {
      AZURE_KEYVAULT_URL: vaultUrl(ctx),
      AZURE_KEYVAULT_CA_FILE: caFile(ctx),
    };
    let credentials: Client;
    try {
      credentials = client(ctx);
    } catch {
      return env; // never started here yet (`status` asks too)
    }
    return {
      ...env,
      AZURE_KEYVAULT_TENANT_ID: credentials.tenantId,
      AZURE_KEYVAULT_CLIENT_ID: credentials.clientId,
      AZURE_KEYVAULT_CLIENT_SECRET: credentials.clientSecret,
      AZURE_KEYVAULT_AUTHORITY_HOST: vaultUrl(ctx),
    };
  },
  startTimeoutMs: 20_000,
  processMatch: 'keyvault/server.ts',
};

/** One HTTPS request to the emulator, trusting only its CA. */
function request(
  port: number,
  ca: string,
  method: string,
  pathname: string,
  headers: Record<string, string>,
  body?: string,
  timeoutMs = 2000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: HOST,
        port,
        method,
        path: pathname,
        ca,
        agent: false,
        timeout: timeoutMs,
        headers: {
          accept: 'application/json',
          ...headers,
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
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
    req.on('timeout', () => req.destroy(new Error(`${method} ${pathname}: no reply within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
