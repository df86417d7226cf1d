import type { ErrorClassification } from '../../ports/errors.ts';

// A wait longer than this is not worth holding a caller for: report rate_limited at once.
const maxRetryAfterMs = 60_000;

/** `Retry-After` (seconds or an HTTP date) or OpenAI's `retry-after-ms`, in milliseconds. */
export function retryAfterMs(
  headers: { get(name: string): string | null | undefined } | undefined,
  now = Date.now(),
): number | undefined {
  const ms = Number(headers?.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after');
  if (value === null || value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Classifies an HTTP status the way every LLM provider means it. */
export function classifyHttpStatus(status: number, retryAfter: number | undefined): ErrorClassification {
  const wait = retryAfter === undefined ? {} : { retryAfterMs: retryAfter };
  const waitable = retryAfter === undefined || retryAfter <= maxRetryAfterMs;
  if (status === 429) return { reason: 'rate_limited', retryable: waitable, ...wait };
  if (status === 401 || status === 403)
    return { reason: 'unauthorized', message: `authentication failed (HTTP ${status})` };
  if (status === 404) return { reason: 'not_found' };
  if (status === 409) return { reason: 'conflict' };
  if (status === 408) return { reason: 'timeout', ...wait };
  // Any other 4xx (400, 413, 422…) says the request is wrong, not that the provider is unwell.
  if (status >= 400 && status < 500) return { reason: 'validation' };
  if (status >= 500) return { reason: 'unavailable', retryable: waitable, ...wait };
  return { reason: 'internal' };
}
