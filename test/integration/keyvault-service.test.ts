// The `keyvault` test server (test/servers/launchers/keyvault.ts: berth's own emulator, or Lowkey Vault
// in a container): the Key Vault REST API over HTTPS, trusted through its own certificate only
// (AZURE_KEYVAULT_CA_FILE), never by turning TLS checks off. Then the real Azure SDK
// (SecretClient with ClientSecretCredential) against an in-process emulator.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { startKeyVaultEmulator, type KeyVaultEmulator } from '../servers/keyvault/server.ts';
import { findKeyVault } from '../support/servers.ts';

const vault = await findKeyVault();
const API = 'api-version=7.4';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

function request(
  method: string,
  pathname: string,
  options: { body?: unknown; ca?: string | undefined; token?: string | undefined; url?: string } = {},
): Promise<Reply> {
  if (options.url === undefined && 'skip' in vault) throw new Error('no vault');
  const base = new URL(options.url ?? ('skip' in vault ? '' : vault.url));
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: base.hostname,
        port: Number(base.port || 443),
        method,
        path: pathname,
        agent: false,
        timeout: 10_000,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        headers: {
          accept: 'application/json',
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${pathname}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

describe(
  'keyvault test server (Azure Key Vault REST API)',
  { skip: 'skip' in vault ? vault.skip : false },
  () => {
    const ca = 'skip' in vault ? '' : fs.readFileSync(vault.caFile, 'utf8');
    const token = 'berth-fake-token'; // the emulator wants a bearer token, any will do

    it('sets, gets and lists a secret over HTTPS, trusting only its certificate', async () => {
      const name = `berth-${process.pid}-${Date.now()}`;
      const set = await request('PUT', `/secrets/${name}?${API}`, {
        body: { value: 's3cret value' },
        ca,
        token,
      });
      assert.equal(set.status, 200, JSON.stringify(set.json));
      assert.equal(set.json['value'], 's3cret value');
      assert.match(String(set.json['id']), new RegExp(`/secrets/${name}/[0-9a-f]+$`));

      const got = await request('GET', `/secrets/${name}?${API}`, { ca, token });
      assert.equal(got.status, 200);
      assert.equal(got.json['value'], 's3cret value');
      assert.equal(got.json['id'], set.json['id']);

      const listed = await request('GET', `/secrets?${API}`, { ca, token });
      assert.equal(listed.status, 200);
      const ids = (listed.json['value'] as Array<{ id: string }>).map((item) => item.id);
      assert.ok(
        ids.some((id) => id.endsWith(`/secrets/${name}`)),
        `${name} not in ${JSON.stringify(ids)}`,
      );

      const deleted = await request('DELETE', `/secrets/${name}?${API}`, { ca, token });
      assert.equal(deleted.status, 200);
      const gone = await request('GET', `/secrets/${name}?${API}`, { ca, token });
      assert.equal(gone.status, 404);
    });

    it('challenges a request without a bearer token, as Azure does', async () => {
      const reply = await request('GET', `/secrets?${API}`, { ca });
      assert.equal(reply.status, 401);
      assert.match(String(reply.headers['www-authenticate']), /^Bearer /);
    });

    it('is not trusted without its certificate (TLS checks stay on)', async () => {
      await assert.rejects(request('GET', `/secrets?${API}`, { token }), (error: NodeJS.ErrnoException) => {
        assert.match(String(error.code), /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/);
        return true;
      });
    });
  },
);

describe('keyvault emulator driven by the Azure SDK (in process)', () => {
  let emulator: KeyVaultEmulator;
  let client: SecretClient;

  const credentialFor = (secret: string) =>
    new ClientSecretCredential(emulator.tenantId, emulator.clientId, secret, {
      authorityHost: emulator.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: emulator.ca },
    });
  const clientWith = (secret: string) =>
    new SecretClient(emulator.url, credentialFor(secret), {
      tlsOptions: { ca: emulator.ca },
      // The challenge names https://vault.azure.net, which 127.0.0.1 is not a subdomain of.
      disableChallengeResourceVerification: true,
      retryOptions: { maxRetries: 0 },
    });

  before(async () => {
    emulator = await startKeyVaultEmulator();
    client = clientWith(emulator.clientSecret);
  });
  after(async () => {
    await emulator.stop();
  });

  it('sets, gets, lists (paged), deletes and purges secrets with a client-secret credential', async () => {
    const set = await client.setSecret('greeting', 'hello', {
      contentType: 'text/plain',
      tags: { team: 'berth' },
    });
    assert.equal(set.value, 'hello');
    assert.match(set.properties.id ?? '', new RegExp(`^${emulator.url}/secrets/greeting/[0-9a-f]{32}$`));
    const got = await client.getSecret('greeting');
    assert.equal(got.value, 'hello');
    assert.equal(got.properties.contentType, 'text/plain');
    assert.deepEqual(got.properties.tags, { team: 'berth' });
    assert.equal(got.properties.enabled, true);

    const names = Array.from({ length: 30 }, (_, i) => `paged-${String(i).padStart(2, '0')}`);
    for (const name of names) await client.setSecret(name, `value of ${name}`);
    const pageSizes: number[] = [];
    const listed: string[] = [];
    for await (const page of client.listPropertiesOfSecrets().byPage()) {
      pageSizes.push(page.length);
      listed.push(...page.map((properties) => properties.name));
    }
    assert.deepEqual(pageSizes, [25, 6]);
    assert.deepEqual(listed.sort(), [...names, 'greeting'].sort());

    await client.setSecret('greeting', 'hello again');
    const versions: string[] = [];
    for await (const properties of client.listPropertiesOfSecretVersions('greeting')) {
      versions.push(properties.version ?? '');
    }
    assert.equal(versions.length, 2);
    assert.ok(
      versions.includes(set.properties.version ?? ''),
      `${set.properties.version} in ${versions.join(', ')}`,
    );

    await (await client.beginDeleteSecret('greeting')).pollUntilDone();
    const deleted = await client.getDeletedSecret('greeting');
    assert.equal(deleted.properties.recoveryId, `${emulator.url}/deletedsecrets/greeting`);
    await assert.rejects(client.getSecret('greeting'), { statusCode: 404, code: 'SecretNotFound' });
    await assert.rejects(client.setSecret('greeting', 'too soon'), { statusCode: 409, code: 'Conflict' });
    await client.purgeDeletedSecret('greeting');
    await assert.rejects(client.getDeletedSecret('greeting'), { statusCode: 404 });
    assert.equal((await client.setSecret('greeting', 'reborn')).value, 'reborn');
  });

  it('refuses a wrong client secret without echoing it', async () => {
    const wrong = `wrong-${emulator.clientSecret}`;
    await assert.rejects(clientWith(wrong).getSecret('anything'), (error: Error) => {
      assert.match(error.message, /AADSTS7000215|invalid_client/);
      assert.ok(!error.message.includes(wrong), error.message);
      assert.ok(!JSON.stringify(error).includes(wrong), 'the serialised error has the secret');
      return true;
    });
  });

  it('passes an injected 429 to the SDK, then serves again', async () => {
    await client.setSecret('throttled', 'value');
    emulator.failNext(1, {
      status: 429,
      headers: { 'retry-after': '1' },
      body: { error: { code: 'Throttled', message: 'Too many requests' } },
    });
    await assert.rejects(client.getSecret('throttled'), { statusCode: 429 });
    assert.equal((await client.getSecret('throttled')).value, 'value');
  });

  it('leaves a request unanswered on a hang fault until the client gives up', async () => {
    emulator.failNext(1, 'hang');
    await assert.rejects(client.getSecret('throttled', { abortSignal: AbortSignal.timeout(300) }), {
      name: 'AbortError',
    });
    assert.equal((await client.getSecret('throttled')).value, 'value');
  });

  it('is gone after stop() (connection error) and back after start(), secrets kept', async () => {
    await client.setSecret('durable', 'kept');
    await emulator.stop();
    await assert.rejects(client.getSecret('durable'), (error: NodeJS.ErrnoException) => {
      assert.match(String(error.code), /ECONNREFUSED|ECONNRESET/);
      return true;
    });
    await emulator.start();
    assert.equal((await client.getSecret('durable')).value, 'kept');
  });

  it('answers bad requests with Azure-shaped errors', async () => {
    const ca = emulator.ca;
    const token = 'berth-fake-token';
    const url = emulator.url;
    const noVersion = await request('GET', '/secrets', { ca, token, url });
    assert.equal(noVersion.status, 400);
    assert.equal((noVersion.json['error'] as { code: string }).code, 'BadParameter');
    const badName = await request('PUT', `/secrets/bad_name?${API}`, {
      body: { value: 'x' },
      ca,
      token,
      url,
    });
    assert.equal(badName.status, 400);
    const tooBig = await request('PUT', `/secrets/big?${API}`, {
      body: { value: 'x'.repeat(25_601) },
      ca,
      token,
      url,
    });
    assert.equal(tooBig.status, 400);
    const forged = await request('GET', `/secrets?${API}`, { ca, token: 'made-up', url });
    assert.equal(forged.status, 401);
    assert.equal(
      forged.headers['www-authenticate'],
      `Bearer authorization="${url}/${emulator.tenantId}", resource="https://vault.azure.net"`,
    );

    await request('PUT', `/secrets/switched-off?${API}`, {
      body: { value: 'x', attributes: { enabled: false } },
      ca,
      token,
      url,
    });
    const disabled = await request('GET', `/secrets/switched-off?${API}`, { ca, token, url });
    assert.equal(disabled.status, 403);
    assert.equal((disabled.json['error'] as { code: string }).code, 'Forbidden');
  });
});
