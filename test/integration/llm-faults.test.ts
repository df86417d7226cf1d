import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAzureOpenAiClient, createOpenAiClient } from '../../src/adapters/openai/index.ts';
import { createOllamaClient } from '../../src/adapters/ollama/index.ts';
import { isInfraError } from '../../src/ports/index.ts';
import { startLlmServer, type LlmTestServer } from '../servers/fakes/llm-servers.ts';
import { capturingRuntime } from '../support/runtime.ts';

const apiKey = 'sk-secret-do-not-print';
const prompt = 'my private prompt text';
let server: LlmTestServer;
before(async () => (server = await startLlmServer({ apiKey })));
after(() => server.close());

const openai = (runtime = capturingRuntime({ retry: { initialDelayMs: 1 } })) => ({
  runtime,
  client: createOpenAiClient(
    {
      apiKey,
      baseUrl: `${server.url}/v1`,
      model: 'gpt-test',
      stallTimeoutMs: 300,
      // A budget for the call beyond one attempt, so that a retry after Retry-After fits in it.
      policies: { timeoutMs: 1_000, totalTimeoutMs: 5_000 },
    },
    runtime,
  ),
});
const messages = [{ role: 'user' as const, content: prompt }];

describe('llm adapters under faults', () => {
  it('retries a 429 after its Retry-After and counts one retry', async () => {
    const { client, runtime } = openai();
    server.script.push({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const started = performance.now();
    const result = await client.generate({ messages });
    assert.equal(result.text, prompt);
    assert.ok(performance.now() - started >= 950);
    assert.match(
      await runtime.registry.metrics(),
      /berth_operation_retries_total\{component="llm:openai",operation="generate"\} 1/,
    );
    assert.match(
      await runtime.registry.metrics(),
      /gen_ai_client_token_usage_count\{.*gen_ai_token_type="output"/,
    );
    await client.close();
  });

  it('turns malformed bodies into InfraError, and leaks neither key nor prompt', async () => {
    const { client, runtime } = openai(capturingRuntime({ retry: { maxAttempts: 1 } }));
    server.script.push({ kind: 'malformed' });
    await assert.rejects(client.generate({ messages }), (e) => isInfraError(e) && e.reason === 'internal');
    const bad = createOpenAiClient(
      { apiKey: 'sk-wrong-key-123', baseUrl: `${server.url}/v1`, model: 'm' },
      runtime,
    );
    let caught: unknown;
    await bad.generate({ messages }).catch((e: unknown) => (caught = e));
    assert.ok(isInfraError(caught) && caught.reason === 'unauthorized');
    const seen = `${runtime.logs()}${String(caught)}${JSON.stringify(caught)}${String((caught as Error).cause)}`;
    assert.doesNotMatch(seen, /sk-wrong-key-123|sk-secret-do-not-print/);
    assert.doesNotMatch(runtime.logs(), /my private prompt/);
    await client.close();
    await bad.close();
  });

  it('aborts a stalled stream with timeout after the deltas it yielded', async () => {
    const { client } = openai();
    server.script.push({ kind: 'stall', deltas: ['one '] });
    const deltas: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const d of client.stream({ messages })) deltas.push(d);
      })(),
      (e) => isInfraError(e) && e.reason === 'timeout',
    );
    assert.deepEqual(deltas, ['one ']);
    await client.close();
  });

  it('fails a stream cut half-way after the deltas it yielded, and does not retry it', async () => {
    const { client } = openai();
    server.script.push({ kind: 'cut', deltas: ['one ', 'two '] });
    const before = server.requests.length;
    const deltas: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const d of client.stream({ messages })) deltas.push(d);
      })(),
      (e) => isInfraError(e) && e.reason === 'unavailable',
    );
    assert.deepEqual(deltas, ['one ', 'two ']);
    assert.equal(server.requests.length - before, 1, 'a stream that yielded data is not retried');
    await client.close();
  });

  it('ollama: a hanging response times out and a malformed stream is an InfraError', async () => {
    const runtime = capturingRuntime({ retry: { maxAttempts: 1 }, timeoutMs: 300 });
    const client = createOllamaClient(
      { host: server.url, model: 'm', policies: { timeoutMs: 300 } },
      runtime,
    );
    server.script.push({ kind: 'hang' });
    await assert.rejects(client.generate({ messages }), (e) => isInfraError(e) && e.reason === 'timeout');
    server.script.push({ kind: 'status', status: 500 });
    await assert.rejects(client.generate({ messages }), (e) => isInfraError(e) && e.reason === 'unavailable');
    await client.close();
  });
});

describe('azure openai with a Microsoft Entra ID credential', () => {
  it('sends the token the credential gives as a bearer token, and logs neither it nor the prompt', async () => {
    const token = 'entra-token-not-for-logs';
    const scopes: string[] = [];
    // A TokenCredential as @azure/identity defines it: what DefaultAzureCredential and friends implement.
    const credential = {
      getToken: (scope: string | string[]) => {
        scopes.push(...(Array.isArray(scope) ? scope : [scope]));
        return Promise.resolve({ token, expiresOnTimestamp: Date.now() + 3_600_000 });
      },
    };
    const tokenServer = await startLlmServer({ apiKey: token });
    const runtime = capturingRuntime();
    const client = createAzureOpenAiClient(
      { endpoint: tokenServer.url, deployment: 'gpt-test', apiVersion: '2024-10-21', credential },
      runtime,
    );
    try {
      const result = await client.generate({ messages });
      assert.equal(result.text, prompt);
      const request = tokenServer.requests.at(-1)!;
      assert.equal(request.headers.authorization, `Bearer ${token}`);
      assert.match(
        request.url,
        /^\/openai\/deployments\/gpt-test\/chat\/completions\?api-version=2024-10-21/,
      );
      assert.deepEqual([...new Set(scopes)], ['https://cognitiveservices.azure.com/.default']);
      assert.doesNotMatch(runtime.logs(), new RegExp(`${token}|my private prompt`));
    } finally {
      await client.close();
      await tokenServer.close();
    }
  });
});

describe('logContent', () => {
  it('logs prompts and completions only when asked, and the API key never', async () => {
    const runtime = capturingRuntime();
    const client = createOpenAiClient(
      { apiKey, baseUrl: `${server.url}/v1`, model: 'gpt-test', logContent: true },
      runtime,
    );
    await client.generate({ messages });
    assert.match(runtime.logs(), /my private prompt text/);
    assert.doesNotMatch(runtime.logs(), /sk-secret-do-not-print/);
    await client.close();
  });
});
