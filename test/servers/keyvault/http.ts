// The HTTP pieces the emulator's routes share: an error that carries its status and Azure error
// code, the JSON reply, and reading a bounded request body.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_BODY_BYTES = 1 << 20;

/** A route's answer: sent as JSON (nothing for `undefined`). */
export interface Reply {
  readonly status: number;
  readonly body: unknown;
}

/** Sent as `{ error: { code, message } }`, the shape of Azure's errors. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, {
    ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'content-length': String(Buffer.byteLength(text)),
    'x-ms-request-id': randomUUID(),
    ...headers,
  });
  response.end(text);
}

export function sendError(response: ServerResponse, error: unknown): void {
  if (error instanceof HttpError) {
    send(response, error.status, { error: { code: error.code, message: error.message } }, error.headers);
  } else {
    send(response, 500, { error: { code: 'InternalError', message: String(error) } });
  }
}

/** The path's segments, percent-decoded; `/secrets/{name}/` (empty version) loses its last one. */
export function pathSegments(pathname: string): string[] {
  const segments = pathname.split('/').slice(1).map(decodePath);
  if (segments.length > 1 && segments.at(-1) === '') segments.pop();
  return segments;
}

function decodePath(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'BadParameter', 'The request path is not valid percent-encoding.');
  }
}

export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () =>
      size > MAX_BODY_BYTES
        ? reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`))
        : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    request.on('error', reject);
  });
}
