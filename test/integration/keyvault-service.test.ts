// The `keyvault` test server (Lowkey Vault, see scripts/services/keyvault.ts): the Key Vault
// REST API over HTTPS, trusted through its own certificate only (AZURE_KEYVAULT_CA_FILE), never
// by turning TLS checks off.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import { describe, it } from 'node:test';
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
  options: { body?: unknown; ca?: string | undefined; token?: string | undefined } = {},
): Promise<Reply> {
  if ('skip' in vault) throw new Error('no vault');
  const base = new URL(vault.url);
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
