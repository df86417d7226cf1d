import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isInfraError } from '../../src/ports/errors.ts';
import {
  createHealthHandler,
  HealthChecker,
  renderHealthPage,
  type HealthHandlerOptions,
  type HealthReport,
} from '../../src/health/index.ts';
import { escapeHtml, prefersHtml } from '../../src/health/health-page.ts';

const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const hostile = '<script>alert(1)</script>"\'&';
const secret = 's3cret-pw';

/** A checker whose checks carry markup, quotes and a password in a URL in every field a page shows. */
function hostileChecker(): HealthChecker {
  const checker = new HealthChecker({ refreshIntervalMs: 0 });
  checker.register(
    `cache ${hostile}`,
    () =>
      Promise.resolve({
        status: 'down',
        error: `connect redis://app:${secret}@db:6379 failed ${hostile}`,
        details: { circuit: `open${hostile}`, note: hostile },
      }),
    { tags: [`tag ${hostile}`, 'sql'] },
  );
  checker.register('flaky', () => Promise.reject(new Error(`postgres://u:${secret}@h/db refused`)), {
    critical: false,
  });
  return checker;
}

async function serve(options: HealthHandlerOptions): Promise<{ url: string; server: Server }> {
  const handler = createHealthHandler(hostileChecker(), options);
  const server = createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const inline = (html: string, tag: 'script' | 'style'): string =>
  new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(html)?.[1] ?? '';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64');

describe('health page rendering', () => {
  it('escapes the five characters that matter in HTML text and quoted attributes', () => {
    assert.equal(
      escapeHtml(`<a href="x" title='y'>&amp;</a>`),
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });

  it('escapes every name, tag, error, detail, reason and the title it shows', () => {
    const report: HealthReport = {
      status: 'down',
      reason: `health checker failed: ${hostile}`,
      durationMs: 1,
      checks: {
        [`db ${hostile}`]: {
          status: 'down',
          latencyMs: 3.25,
          critical: true,
          tags: [hostile],
          error: hostile,
          details: { circuit: hostile, pool: { note: hostile } },
        },
      },
    };
    const html = renderHealthPage(report, { title: `Orders ${hostile}`, refreshSeconds: 7 });
    assert.equal(html.match(/<script/g)?.length, 1, 'only the page script is a script');
    assert.equal(html.includes('alert(1)</script>'), false);
    assert.equal(html.includes('"\'&<'), false);
    const escaped = escapeHtml(hostile);
    // Title, heading, check name, tag, error, circuit, reason; the details are escaped as JSON text.
    assert.ok(html.split(escaped).length - 1 >= 7, 'each hostile value appears escaped');
    assert.match(html, /<title>Down – Orders &lt;script&gt;/);
    assert.match(html, /<th scope="row">db &lt;script&gt;/);
    assert.match(html, /<td class="status status-down">Down<\/td>/);
    assert.match(html, /<td>3\.3 ms<\/td>/);
    assert.match(html, /<meta http-equiv="refresh" content="7">/);
    assert.match(html, /<html lang="en" data-refresh-seconds="7">/);
  });

  it('shows the status alone, and says so, for a report without checks', () => {
    const html = renderHealthPage({ status: 'degraded' }, { title: 'Health', refreshSeconds: 5 });
    assert.match(html, /Overall status: <strong class="status status-degraded">Degraded<\/strong>/);
    assert.equal(html.includes('<table'), false);
    assert.match(html, /details are turned off/);
  });
});

describe('createHealthHandler with page', () => {
  describe('details hidden (the default)', () => {
    let url = '';
    let server: Server;
    before(async () => ({ url, server } = await serve({ page: true })));
    after(() => close(server));

    it('serves a browser the page with the overall status only: no check name, tag or error', async () => {
      const response = await fetch(`${url}/healthz`, { headers: { accept: browserAccept } });
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(response.headers.get('vary'), 'Accept');
      assert.equal(response.headers.get('cache-control'), 'no-store');
      const html = await response.text();
      assert.match(html, /<title>Down – Health<\/title>/);
      assert.match(html, /Overall status: <strong class="status status-down">Down/);
      for (const hidden of ['cache ', 'flaky', 'tag ', 'sql', 'redis://', secret, 'circuit', 'alert']) {
        assert.equal(html.includes(hidden), false, `the page shows "${hidden}"`);
      }
    });

    it('still answers JSON, the status alone, to probes, curl and fetch', async () => {
      for (const accept of [undefined, '*/*', 'application/json', 'text/html;q=0.5, application/json']) {
        const response = await fetch(`${url}/healthz`, accept === undefined ? {} : { headers: { accept } });
        assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8', String(accept));
        assert.equal(response.headers.get('vary'), 'Accept');
        assert.equal(await response.text(), '{"status":"down"}');
      }
    });

    it('answers HEAD from a browser with the page headers and no body', async () => {
      const response = await fetch(`${url}/healthz`, { method: 'HEAD', headers: { accept: browserAccept } });
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(await response.text(), '');
    });

    it('serves no page on the probes', async () => {
      const response = await fetch(`${url}/readyz`, { headers: { accept: browserAccept } });
      assert.equal(await response.text(), '{"status":"down"}');
    });
  });

  describe('details shown', () => {
    let url = '';
    let server: Server;
    before(
      async () =>
        ({ url, server } = await serve({
          exposeDetails: true,
          page: { title: 'Orders service', refreshSeconds: 2 },
        })),
    );
    after(() => close(server));

    it('shows each check, escaped, with passwords in URLs redacted', async () => {
      const html = await (await fetch(`${url}/healthz`, { headers: { accept: browserAccept } })).text();
      assert.match(html, /<h1>Orders service<\/h1>/);
      assert.match(html, /<caption>Checks: 2 \(0 up, 0 degraded, 2 down\)<\/caption>/);
      assert.match(html, /<th scope="col">Circuit breaker<\/th>/);
      assert.match(html, /<th scope="row">flaky<\/th><td class="status status-down">Down<\/td><td>No<\/td>/);
      assert.match(html, /redis:\/\/app:&lt;redacted&gt;@db:6379 failed &lt;script&gt;/);
      assert.match(html, /tag &lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;&#39;&amp;, sql/);
      assert.equal(html.includes(secret), false);
      assert.equal(html.match(/<script/g)?.length, 1);
    });

    it('redacts the same passwords in the JSON report', async () => {
      const body = await (await fetch(`${url}/healthz`)).text();
      assert.equal(body.includes(secret), false);
      assert.match(body, /postgres:\/\/u:<redacted>@h\/db refused/);
    });

    it('lets only its own inline script and style run, and loads nothing from elsewhere', async () => {
      const response = await fetch(`${url}/healthz`, { headers: { accept: browserAccept } });
      const policy = response.headers.get('content-security-policy') ?? '';
      const html = await response.text();
      assert.match(policy, /default-src 'none'/);
      assert.match(policy, /connect-src 'self'/);
      assert.ok(policy.includes(`script-src 'sha256-${sha256(inline(html, 'script'))}'`), policy);
      assert.ok(policy.includes(`style-src 'sha256-${sha256(inline(html, 'style'))}'`), policy);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(/\b(src|href)=/.test(html), false, 'no external asset is referenced');
    });
  });

  it('serves no page unless asked: a browser gets JSON', async () => {
    const { url, server } = await serve({ exposeDetails: true });
    try {
      const response = await fetch(`${url}/healthz`, { headers: { accept: browserAccept } });
      assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(response.headers.get('vary'), null);
    } finally {
      await close(server);
    }
  });

  it('refuses bad page options with one ConfigError naming each', () => {
    const checker = new HealthChecker();
    assert.throws(
      () => createHealthHandler(checker, { page: { title: '', refreshSeconds: 0.5 } }),
      (error: unknown) =>
        isInfraError(error) &&
        error.reason === 'config' &&
        error.message.includes('title:') &&
        error.message.includes('refreshSeconds:'),
    );
    assert.throws(
      () => createHealthHandler(checker, { page: { refresh: 5 } as unknown as true }),
      (error: unknown) => isInfraError(error) && error.reason === 'config',
    );
    assert.throws(
      () => createHealthHandler(checker, { page: 'yes' as unknown as true }),
      (error: unknown) => isInfraError(error) && error.reason === 'config',
    );
  });
});

describe('prefersHtml', () => {
  it('takes HTML only when a request ranks it above JSON', () => {
    assert.equal(prefersHtml(browserAccept), true);
    assert.equal(prefersHtml('text/*'), true);
    assert.equal(prefersHtml(undefined), false);
    assert.equal(prefersHtml('*/*'), false);
    assert.equal(prefersHtml('application/json, text/html'), false);
    assert.equal(prefersHtml('text/html;q=0.4, */*;q=0.5'), false);
    assert.equal(prefersHtml('text/html;q=0'), false);
    assert.equal(prefersHtml('TEXT/HTML; Q=0.9, application/json; q=0.8'), true);
  });
});
