import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import {
  createHealthHandler,
  HealthChecker,
  type HealthHandler,
  type HealthReportSource,
} from '../../src/health/index.ts';

/** A real server on 127.0.0.1 that answers 404 itself for whatever the handler declines. */
async function serve(handler: HealthHandler): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (handler(req, res)) return;
    res.statusCode = 404;
    res.end('not found by the server');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

function checkerWith(readiness: 'up' | 'degraded' | 'down'): HealthChecker {
  const checker = new HealthChecker({ cacheTtlMs: 0 });
  checker.register('loop', () => Promise.resolve(), { probes: ['liveness'] });
  checker.register(
    'database',
    () => Promise.resolve({ status: readiness, error: 'password=hunter2 rejected' }),
    {
      critical: true,
      tags: ['sql'],
    },
  );
  return checker;
}

describe('createHealthHandler', () => {
  describe('with details hidden (the default)', () => {
    let url = '';
    let server: Server;
    const checker = checkerWith('down');
    before(async () => ({ url, server } = await serve(createHealthHandler(checker))));
    after(() => close(server));

    it('answers 503 with only the status when readiness is down', async () => {
      const response = await fetch(`${url}/readyz`);
      assert.equal(response.status, 503);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(response.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await response.json(), { status: 'down' });
    });

    it('answers 200 for livez, which does not run readiness checks', async () => {
      const response = await fetch(`${url}/livez`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { status: 'up' });
    });

    it('does not let ?verbose or other queries reveal details', async () => {
      for (const query of ['?verbose', '?verbose=true', '?exposeDetails=true&details=1']) {
        const response = await fetch(`${url}/healthz${query}`);
        assert.equal(response.status, 503);
        const body = await response.text();
        assert.equal(body, '{"status":"down"}', query);
      }
    });

    it('answers HEAD with the status code and no body', async () => {
      const response = await fetch(`${url}/readyz`, { method: 'HEAD' });
      assert.equal(response.status, 503);
      assert.equal(await response.text(), '');
    });

    it('answers 405 to other methods on its paths', async () => {
      const response = await fetch(`${url}/readyz`, { method: 'POST' });
      assert.equal(response.status, 405);
      assert.equal(response.headers.get('allow'), 'GET, HEAD');
    });

    it('declines other paths, and /metrics without a registry, so the server answers', async () => {
      for (const path of ['/', '/ready', '/readyz/extra', '/metrics']) {
        const response = await fetch(`${url}${path}`);
        assert.equal(response.status, 404, path);
        assert.equal(await response.text(), 'not found by the server');
      }
    });
  });

  describe('with details exposed', () => {
    let url = '';
    let server: Server;
    const checker = checkerWith('degraded');
    before(
      async () => ({ url, server } = await serve(createHealthHandler(checker, { exposeDetails: true }))),
    );
    after(() => close(server));

    it('answers 200 for degraded, with every check and its error', async () => {
      const response = await fetch(`${url}/readyz`);
      assert.equal(response.status, 200);
      const body = (await response.json()) as {
        status: string;
        checks: Record<string, { status: string; critical: boolean; tags: string[]; error?: string }>;
      };
      assert.equal(body.status, 'degraded');
      assert.deepEqual(Object.keys(body.checks), ['database']);
      assert.equal(body.checks['database']?.error, 'password=hunter2 rejected');
      assert.deepEqual(body.checks['database']?.tags, ['sql']);
    });

    it('shows liveness and readiness checks on /healthz', async () => {
      const response = await fetch(`${url}/healthz`);
      const body = (await response.json()) as { checks: Record<string, unknown> };
      assert.deepEqual(Object.keys(body.checks).sort(), ['database', 'loop']);
    });

    it('answers 503 on readyz once shutdown begins, 200 on livez', async () => {
      checker.beginShutdown();
      const ready = await fetch(`${url}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), {
        status: 'down',
        reason: 'shutting down',
        checks: {},
        durationMs: 0,
      });
      assert.equal((await fetch(`${url}/livez`)).status, 200);
    });
  });

  describe('/metrics', () => {
    it("serves a prom-client registry's metrics with its content type", async () => {
      const registry = new Registry();
      const requests = new Counter({
        name: 'berth_test_requests_total',
        help: 'test',
        registers: [registry],
      });
      requests.inc(3);
      const { url, server } = await serve(createHealthHandler(checkerWith('up'), { registry }));
      try {
        const response = await fetch(`${url}/metrics`);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('content-type'), registry.contentType);
        const body = await response.text();
        assert.equal(body, await registry.metrics());
        assert.match(body, /^berth_test_requests_total 3$/m);
      } finally {
        await close(server);
      }
    });

    it('answers 500 with a generic body when collecting fails, and tells onError', async () => {
      const registry = new Registry();
      new Gauge({
        name: 'berth_test_broken',
        help: 'test',
        registers: [registry],
        collect() {
          throw new Error('secret-bearing failure');
        },
      });
      const errors: unknown[] = [];
      const { url, server } = await serve(
        createHealthHandler(checkerWith('up'), { registry, onError: (error) => errors.push(error) }),
      );
      try {
        const response = await fetch(`${url}/metrics`);
        assert.equal(response.status, 500);
        const body = await response.text();
        assert.equal(body, '{"error":"internal error"}');
        assert.equal(errors.length, 1);
        assert.match(String(errors[0]), /secret-bearing failure/);
      } finally {
        await close(server);
      }
    });
  });

  it('answers 500 when the report source rejects, even if onError throws', async () => {
    const broken: HealthReportSource = {
      liveness: () => Promise.reject(new Error('boom')),
      readiness: () => Promise.reject(new Error('boom')),
      report: () => Promise.reject(new Error('boom')),
    };
    const handler = createHealthHandler(broken, {
      exposeDetails: true,
      onError: () => {
        throw new Error('logger broke');
      },
    });
    const { url, server } = await serve(handler);
    try {
      const response = await fetch(`${url}/livez`);
      assert.equal(response.status, 500);
      assert.equal(await response.text(), '{"error":"internal error"}');
    } finally {
      await close(server);
    }
  });

  it('answers /readyz at once from the last result while a check hangs 5 s, then 503 after its timeout', async () => {
    // Default options but for the check's timeout, Kubernetes' own probe timeout: 1 s.
    const checker = new HealthChecker();
    let hanging = false;
    checker.register(
      'database',
      (signal) =>
        hanging
          ? new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 5_000);
              signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
            })
          : Promise.resolve(),
      { timeoutMs: 1_000 },
    );
    const { url, server } = await serve(createHealthHandler(checker, { exposeDetails: true }));
    try {
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
      hanging = true;
      const hungAt = performance.now();
      let slowestMs = 0;
      let status = 200;
      let body: { checks?: Record<string, { error?: string }> } = {};
      while (status === 200 && performance.now() - hungAt < 15_000) {
        const started = performance.now();
        const response = await fetch(`${url}/readyz`);
        slowestMs = Math.max(slowestMs, performance.now() - started);
        status = response.status;
        body = (await response.json()) as typeof body;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const downAfterMs = performance.now() - hungAt;
      assert.equal(status, 503);
      // About 100 ms measured generously: a probe that waited for the check would take 1 s.
      assert.ok(slowestMs < 300, `a probe took ${slowestMs} ms`);
      assert.ok(downAfterMs >= 1_000, `503 after ${downAfterMs} ms, before the check's timeout`);
      assert.equal(body.checks?.['database']?.error, 'timed out after 1000 ms');
    } finally {
      checker.close();
      await close(server);
    }
  });
});
