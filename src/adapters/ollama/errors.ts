import type { ErrorClassification } from '../../ports/errors.ts';
import { classifyHttpStatus } from '../shared/http-status.ts';

/** Maps an error of the `ollama` package to berth's reasons. */
export function classifyOllamaError(error: unknown): ErrorClassification {
  // ollama-js throws a ResponseError (not exported) with the HTTP status as `status_code`.
  const status = (error as { status_code?: unknown } | null)?.status_code;
  if (typeof status === 'number') return classifyHttpStatus(status, undefined);
  if (error instanceof SyntaxError) return { reason: 'internal', message: 'malformed response from Ollama' };
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError') return { reason: 'timeout' };
  if (error instanceof TypeError && /terminated|fetch failed|other side closed/i.test(error.message))
    return { reason: 'unavailable' };
  if (error instanceof Error && error.message.startsWith('Did not receive done'))
    return { reason: 'unavailable', message: 'stream ended before the reply was complete' };
  return { reason: 'internal' };
}
