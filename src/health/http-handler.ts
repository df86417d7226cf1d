import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { HealthChecker, HealthReport } from './health-checker.ts';

/** What the handler needs of a `HealthChecker`. */
export type HealthReportSource = Pick<HealthChecker, 'liveness' | 'readiness' | 'report'>;

export interface HealthHandlerOptions {
  /** Show each check, its error and details. Default false: only `{ status }`, since errors can reveal internals. */
  exposeDetails?: boolean;
  /** Serves `/metrics` from this registry when given. */
  registry?: Registry;
  /** Told of an error that turned into a 500, e.g. to log it. */
  onError?: (error: unknown) => void;
}

/** Returns false, without touching `res`, for a request that is not its own. */
export type HealthHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

interface Reply {
  statusCode: number;
  contentType: string;
  body: string;
}

const jsonType = 'application/json; charset=utf-8';

/**
 * Serves `/livez`, `/readyz`, `/healthz` (every check) and, given a registry, `/metrics` for
 * `node:http`, so it plugs into any server or framework: 200 for up and degraded, 503 for down.
 */
export function createHealthHandler(
  checker: HealthReportSource,
  options: HealthHandlerOptions = {},
): HealthHandler {
  const exposeDetails = options.exposeDetails === true;
  const healthReply = async (pending: Promise<HealthReport>): Promise<Reply> => {
    const report = await pending;
    return {
      statusCode: report.status === 'down' ? 503 : 200,
      contentType: jsonType,
      body: JSON.stringify(exposeDetails ? report : { status: report.status }),
    };
  };
  const routes = new Map<string, () => Promise<Reply>>([
    ['/livez', () => healthReply(checker.liveness())],
    ['/readyz', () => healthReply(checker.readiness())],
    ['/healthz', () => healthReply(checker.report())],
  ]);
  const { registry } = options;
  if (registry !== undefined) {
    routes.set('/metrics', async () => ({
      statusCode: 200,
      contentType: registry.contentType,
      body: await registry.metrics(),
    }));
  }

  return (req, res) => {
    const route = routes.get(pathOf(req.url));
    if (route === undefined) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, { statusCode: 405, contentType: jsonType, body: '{"error":"method not allowed"}' });
      return true;
    }
    void respond(res, route, options.onError);
    return true;
  };
}

async function respond(
  res: ServerResponse,
  route: () => Promise<Reply>,
  onError: ((error: unknown) => void) | undefined,
): Promise<void> {
  try {
    send(res, await route());
  } catch (error) {
    try {
      onError?.(error);
    } catch {
      // A failing error hook must not stop the 500 from going out.
    }
    try {
      send(res, { statusCode: 500, contentType: jsonType, body: '{"error":"internal error"}' });
    } catch {
      res.destroy();
    }
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  res.statusCode = reply.statusCode;
  res.setHeader('Content-Type', reply.contentType);
  res.setHeader('Content-Length', Buffer.byteLength(reply.body));
  // Probes must see the current state, never a proxy's copy.
  res.setHeader('Cache-Control', 'no-store');
  // node:http drops the body of a HEAD response itself.
  res.end(reply.body);
}

// The query string is ignored on purpose: no `?verbose` or similar may change what is shown.
function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
