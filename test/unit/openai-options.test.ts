import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOpenAiClient } from '../../src/adapters/openai/index.ts';
import { isInfraError } from '../../src/ports/errors.ts';
import { silentRuntime } from '../support/runtime.ts';

const configError = (pattern: RegExp) => (error: unknown) =>
  isInfraError(error) && error.reason === 'config' && pattern.test(error.message);

describe('createOpenAiClient options', () => {
  it('takes the SDK spelling baseURL as well as baseUrl', async () => {
    const sdkSpelling = createOpenAiClient(
      { apiKey: 'sk-test', baseURL: 'http://127.0.0.1:8080/v1' },
      silentRuntime(),
    );
    const ownSpelling = createOpenAiClient(
      { apiKey: 'sk-test', baseUrl: 'http://127.0.0.1:8081/v1' },
      silentRuntime(),
    );
    try {
      assert.equal(sdkSpelling.client().baseURL, 'http://127.0.0.1:8080/v1');
      assert.equal(ownSpelling.client().baseURL, 'http://127.0.0.1:8081/v1');
    } finally {
      await sdkSpelling.close();
      await ownSpelling.close();
    }
  });

  it('checks baseURL like baseUrl, and refuses both at once', () => {
    assert.throws(
      () => createOpenAiClient({ apiKey: 'sk-test', baseURL: 'ftp://example.com' }, silentRuntime()),
      configError(/baseURL: must be an http/),
    );
    assert.throws(
      () =>
        createOpenAiClient(
          { apiKey: 'sk-test', baseUrl: 'http://a.example/v1', baseURL: 'http://a.example/v1' },
          silentRuntime(),
        ),
      configError(/baseURL: give baseUrl or baseURL, not both/),
    );
  });
});
