import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { classifyOllamaError } from '../../src/adapters/ollama/index.ts';
import { classifyOpenAiError } from '../../src/adapters/openai/index.ts';
import { retryAfterMs } from '../../src/adapters/shared/http-status.ts';

const apiError = (status: number, headers: Record<string, string> = {}): unknown =>
  APIError.generate(status, { error: { message: `status ${status}` } }, undefined, new Headers(headers));
// ollama-js throws a ResponseError it does not export: an Error with `status_code`.
const ollamaError = (status: number): unknown =>
  Object.assign(new Error(`status ${status}`), { status_code: status });
const retryableReasons = new Set(['unavailable', 'timeout', 'rate_limited']);

describe('classifyOpenAiError', () => {
  const table: [string, unknown, string, boolean, number?][] = [
    ['429 with Retry-After', apiError(429, { 'retry-after': '2' }), 'rate_limited', true, 2_000],
    ['429 with retry-after-ms', apiError(429, { 'retry-after-ms': '250' }), 'rate_limited', true, 250],
    [
      '429 asking for more than a minute',
      apiError(429, { 'retry-after': '600' }),
      'rate_limited',
      false,
      600_000,
    ],
    ['500', apiError(500), 'unavailable', true],
    ['503', apiError(503), 'unavailable', true],
    ['401', apiError(401), 'unauthorized', false],
    ['403', apiError(403), 'unauthorized', false],
    ['400', apiError(400), 'validation', false],
    ['404', apiError(404), 'not_found', false],
    // Any other 4xx is the request's (issue #22), not a provider outage.
    ['405', apiError(405), 'validation', false],
    ['413', apiError(413), 'validation', false],
    ['415', apiError(415), 'validation', false],
    ['422', apiError(422), 'validation', false],
    ['connection refused', new APIConnectionError({ message: 'Connection error.' }), 'unavailable', true],
    ['connection timeout', new APIConnectionTimeoutError(), 'timeout', true],
    ['aborted', new APIUserAbortError(), 'timeout', true],
    ['a body cut off', new TypeError('terminated'), 'unavailable', true],
    ['malformed JSON', new SyntaxError('Unexpected token < in JSON'), 'internal', false],
    ['a plain bug', new RangeError('bad'), 'internal', false],
  ];
  for (const [name, error, reason, retryable, wait] of table) {
    it(`${name} → ${reason}${retryable ? ', retryable' : ''}`, () => {
      const classified = classifyOpenAiError(error);
      assert.equal(classified.reason, reason);
      assert.equal(classified.retryable ?? retryableReasons.has(classified.reason), retryable);
      assert.equal(classified.retryAfterMs, wait);
    });
  }
});

describe('classifyOllamaError', () => {
  const table: [string, unknown, string, boolean][] = [
    ['500', ollamaError(500), 'unavailable', true],
    ['429', ollamaError(429), 'rate_limited', true],
    ['404 model not found', ollamaError(404), 'not_found', false],
    ['400', ollamaError(400), 'validation', false],
    ['410', ollamaError(410), 'validation', false],
    ['3xx', ollamaError(304), 'internal', false],
    [
      'an unfinished stream',
      new Error('Did not receive done or success response in stream.'),
      'unavailable',
      true,
    ],
    ['fetch failed', new TypeError('fetch failed'), 'unavailable', true],
    ['aborted', Object.assign(new Error('aborted'), { name: 'AbortError' }), 'timeout', true],
    ['malformed JSON', new SyntaxError('Unexpected end of JSON input'), 'internal', false],
  ];
  for (const [name, error, reason, retryable] of table) {
    it(`${name} → ${reason}${retryable ? ', retryable' : ''}`, () => {
      const classified = classifyOllamaError(error);
      assert.equal(classified.reason, reason);
      assert.equal(classified.retryable ?? retryableReasons.has(classified.reason), retryable);
    });
  }
});

describe('retryAfterMs', () => {
  it('reads seconds, milliseconds and HTTP dates', () => {
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '3' })), 3_000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '120' })), 120);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now), 5_000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'soon' })), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
  });
});
