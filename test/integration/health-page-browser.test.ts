// What a person sees on the example service's health page in a real browser (Debian's chromium,
// headless, driven by playwright-core), while the service's Redis is stopped and started again.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  killStartedProcesses,
  ownRedis,
  ownRedisSkipReason,
  startExampleService,
  statusOf,
} from '../support/example-service.ts';
import { waitFor } from '../support/wait.ts';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = join(import.meta.dirname, '..', '..', 'test-artifacts');
const title = 'Example service health';

// .ci/run installs chromium, so under CI=true a missing one fails the test instead of skipping it.
const skip =
  !existsSync(chromiumPath) && process.env.CI !== 'true'
    ? `no chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`
    : ownRedisSkipReason();
if (skip !== false) process.stderr.write(`health page browser test skipped: ${skip}\n`);

let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  killStartedProcesses();
});

/** The text of one check's cell under a column heading, as rendered. */
async function cell(page: Page, check: string, column: string): Promise<string> {
  const headings = await page.locator('#checks thead th').allTextContents();
  const index = headings.indexOf(column);
  assert.ok(index >= 0, `no column "${column}" in ${headings.join(', ')}`);
  const row = page
    .locator('#checks tbody tr')
    .filter({ has: page.getByRole('rowheader', { name: check, exact: true }) });
  return (await row.locator('th, td').nth(index).textContent({ timeout: 5_000 })) ?? '';
}

async function overall(page: Page): Promise<string> {
  return (await page.locator('#overall').textContent()) ?? '';
}

// WCAG 2.x relative luminance and contrast ratio of two CSS rgb() colours.
function contrastRatio(foreground: string, background: string): number {
  const luminance = (color: string): number => {
    const [r = 0, g = 0, b = 0] = (color.match(/[\d.]+/g) ?? []).map(Number).map((channel) => {
      const c = channel / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a) as [
    number,
    number,
  ];
  return (light + 0.05) / (dark + 0.05);
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  const path = join(artifacts, name);
  await page.screenshot({ path, fullPage: true });
  process.stderr.write(`health page screenshot: ${path}\n`);
}

describe('health page in a browser', { skip }, () => {
  it('shows Redis down, then turns to up by itself when Redis returns', { timeout: 180_000 }, async () => {
    assert.ok(
      existsSync(chromiumPath),
      `no chromium at ${chromiumPath}: .ci/run installs it (apt-get install chromium)`,
    );
    const redis = await ownRedis();
    await redis.start();
    const service = await startExampleService({
      CACHE_DRIVER: 'redis',
      REDIS_URL: redis.url,
      CACHE_TIMEOUT_MS: '300',
      HEALTH_DETAILS: 'true',
    });
    try {
      await waitFor('ready on Redis', async () => (await statusOf(`${service.base}/readyz`)) === 200, 15_000);
      await redis.kill();
      // Calls that fail open the circuit; the loader still answers them.
      for (let i = 0; i < 6; i++) assert.equal(await statusOf(`${service.base}/greet/ada-${i}`), 200);
      await waitFor(
        'readyz 503 without Redis',
        async () => (await statusOf(`${service.base}/readyz`)) === 503,
        10_000,
      );

      browser = await chromium.launch({ executablePath: chromiumPath });
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
      });
      let navigations = 0;
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) navigations += 1;
      });

      const response = await page.goto(`${service.base}/healthz`);
      assert.equal(response?.status(), 503);
      assert.equal(await page.title(), `Down – ${title}`);
      assert.equal(await page.locator('h1').textContent(), title);
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      assert.match(await overall(page), /^Overall status: Down/);
      assert.match(
        (await page.locator('caption').textContent()) ?? '',
        /^Checks: \d+ \(\d+ up, \d+ degraded, 1 down\)$/,
      );
      assert.equal(await cell(page, 'cache:redis', 'Status'), 'Down');
      assert.equal(await cell(page, 'cache:redis', 'Circuit breaker'), 'open');
      assert.equal(await cell(page, 'cache:redis', 'Critical'), 'Yes');
      assert.notEqual(await cell(page, 'cache:redis', 'Last error'), 'none');
      assert.equal(await cell(page, 'http-server', 'Status'), 'Up');
      assert.equal(await page.locator('th[scope="col"]').count(), 8);
      // Evaluated as text: the test's TypeScript has no DOM types.
      const colors = await page.evaluate<[string, string][]>(
        `Array.from(document.querySelectorAll('.status'), (e) => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor])`,
      );
      assert.ok(colors.length >= 2, 'the overall status and each check are coloured');
      for (const [color, background] of colors) {
        assert.ok(contrastRatio(color, background) >= 4.5, `contrast of ${color} on ${background}`);
      }
      await screenshot(page, 'health-page-redis-down.png');
      // Gone if anything reloaded the page: the refresh must happen in place.
      await page.evaluate(`document.documentElement.setAttribute('data-test-marker', 'kept')`);

      await redis.start();
      const upIn = await waitFor(
        'the page shows cache:redis up without a reload',
        async () => {
          // Traffic closes the half-open circuit, as it would in use.
          await statusOf(`${service.base}/greet/grace`);
          return (await cell(page, 'cache:redis', 'Status')) === 'Up';
        },
        60_000,
      );
      assert.equal(await cell(page, 'cache:redis', 'Circuit breaker'), 'closed');
      assert.equal(await cell(page, 'cache:redis', 'Last error'), 'none');
      await waitFor(
        'the overall status shows up',
        async () => /^Overall status: Up/.test(await overall(page)),
        15_000,
      );
      assert.equal(await page.title(), `Up – ${title}`);
      assert.equal(navigations, 1, 'the page was loaded once');
      assert.equal(await page.locator('html').getAttribute('data-test-marker'), 'kept');
      assert.equal(await page.getByRole('button', { name: 'Pause updates' }).isVisible(), true);
      assert.deepEqual(problems, []);
      await screenshot(page, 'health-page-redis-up.png');
      process.stderr.write(`the page showed cache:redis up ${Math.round(upIn)} ms after Redis returned\n`);

      // Without JavaScript the page is the same table and reloads itself through its meta refresh.
      const noScript = await browser.newContext({ javaScriptEnabled: false });
      const plainPage = await noScript.newPage();
      let plainLoads = 0;
      plainPage.on('load', () => (plainLoads += 1));
      await plainPage.goto(`${service.base}/healthz`);
      assert.equal(await cell(plainPage, 'cache:redis', 'Status'), 'Up');
      assert.equal(await plainPage.getByRole('button', { name: 'Pause updates' }).isVisible(), false);
      await waitFor(
        'the page without JavaScript reloads itself',
        () => Promise.resolve(plainLoads >= 2),
        20_000,
      );
      await noScript.close();
      assert.equal(await service.stop(), 0, 'the service shut down cleanly');
    } finally {
      await service.stop();
      await redis.dispose();
    }
  });
});
