import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { redactCredentials } from '../ports/redacted.ts';
import type { HealthChecker } from './health-checker.ts';
import type { HealthCheckReport, HealthReport } from './types.ts';
import {
  healthPageHeaders,
  prefersHtml,
  renderHealthPage,
  resolveHealthPageOptions,
  type HealthPageOptions,
  type VisibleHealthReport,
} from './health-page.ts';

/** What the handler needs of a `HealthChecker`. */
export type HealthReportSource = Pick<HealthChecker, 'liveness' | 'readiness' | 'report'>;

export interface HealthHandlerOptions {
  /** Show each check, its error and details. Default false: only `{ status }`, since errors can reveal internals. */
  exposeDetails?: boolean;
  /** Serves `/metrics` from this registry when given. */
  registry?: Registry;
  /** Told of an error that turned into a 500, e.g. to log it. */
  onError?: (error: unknown) => void;
  /**
   * Serves `/healthz` as an HTML page that refreshes itself to a request whose `Accept` prefers
   * `text/html` (a browser's); it shows what the JSON shows, so checks only with `exposeDetails`.
   * Default false. A bad option throws `ConfigError`.
   */
  page?: boolean | HealthPageOptions;
}

/** Returns false, without touching `res`, for a request that is not its own. */
export type HealthHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

interface Reply {
  statusCode: number;
  contentType: string;
  body: string;
  headers?: Readonly<Record<string, string>>;
}

const jsonType = 'application/json; charset=utf-8';
const htmlType = 'text/html; charset=utf-8';

/**
 * Serves `/livez`, `/readyz`, `/healthz` (every check) and, given a registry, `/metrics` for
 * `node:http`, so it plugs into any server or framework: 200 for up and degraded, 503 for down.
 */
export function createHealthHandler(
  checker: HealthReportSource,
  options: HealthHandlerOptions = {},
): HealthHandler {
  const exposeDetails = options.exposeDetails === true;
  const page = resolveHealthPageOptions(options.page);
  const visible = (report: HealthReport): VisibleHealthReport =>
    exposeDetails ? redactedReport(report) : { status: report.status };
  const healthReply = async (pending: Promise<HealthReport>): Promise<Reply> => {
    const report = await pending;
    return {
      statusCode: statusCodeOf(report),
      contentType: jsonType,
      body: JSON.stringify(visible(report)),
    };
  };
  const fullReport = async (req: IncomingMessage): Promise<Reply> => {
    if (page === undefined) return healthReply(checker.report());
    // The same URL answers JSON or HTML: a cache in between must keep them apart.
    const vary = { Vary: 'Accept' };
    if (!prefersHtml(req.headers.accept)) return { ...(await healthReply(checker.report())), headers: vary };
    const report = await checker.report();
    return {
      statusCode: statusCodeOf(report),
      contentType: htmlType,
      body: renderHealthPage(visible(report), page),
      headers: { ...healthPageHeaders, ...vary },
    };
  };
  const routes = new Map<string, (req: IncomingMessage) => Promise<Reply>>([
    ['/livez', () => healthReply(checker.liveness())],
    ['/readyz', () => healthReply(checker.readiness())],
    ['/healthz', fullReport],
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
    void respond(res, () => route(req), options.onError);
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
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  // node:http drops the body of a HEAD response itself.
  res.end(reply.body);
}

// The query string is ignored on purpose: no `?verbose` or similar may change what is shown.
function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function statusCodeOf(report: HealthReport): number {
  return report.status === 'down' ? 503 : 200;
}

// Adapters redact their errors already; a plain check function's error may still hold a URL.
function redactedReport(report: HealthReport): HealthReport {
  const checks: Record<string, HealthCheckReport> = {};
  for (const [name, check] of Object.entries(report.checks)) {
    checks[name] = check.error === undefined ? check : { ...check, error: redactCredentials(check.error) };
  }
  const redacted: HealthReport = { ...report, checks };
  if (report.reason !== undefined) redacted.reason = redactCredentials(report.reason);
  return redacted;
}
