import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ErrorClassification } from '../../ports/errors.ts';
import { classifyHttpStatus, retryAfterMs } from '../shared/http-status.ts';

/** Maps an error of the `openai` package (OpenAI and Azure OpenAI) to berth's reasons. */
export function classifyOpenAiError(error: unknown): ErrorClassification {
  if (error instanceof APIUserAbortError) return { reason: 'timeout' };
  if (error instanceof APIConnectionTimeoutError) return { reason: 'timeout' };
  if (error instanceof APIConnectionError) return { reason: 'unavailable' };
  if (error instanceof APIError) {
    if (error.status === undefined) return { reason: 'internal' };
    const { status, headers } = error as { status: number; headers: Headers | undefined };
    return classifyHttpStatus(status, retryAfterMs(headers));
  }
  if (error instanceof SyntaxError)
    return { reason: 'internal', message: 'malformed response from the provider' };
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError') return { reason: 'timeout' };
  // undici reports a connection cut in the middle of a body as `TypeError: terminated`.
  if (error instanceof TypeError && /terminated|fetch failed|other side closed/i.test(error.message))
    return { reason: 'unavailable' };
  return { reason: 'internal' };
}
