/**
 * Node's socket and name-resolution error codes: the server could not be reached or the connection
 * broke, so the backend is `unavailable` (a retry may reach it). One list for every backend.
 */
export const networkErrorCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export const isNetworkErrorCode = (code: unknown): boolean =>
  typeof code === 'string' && networkErrorCodes.has(code);
