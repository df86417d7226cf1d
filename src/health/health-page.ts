import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { HealthStatus } from '../ports/component.ts';
import { parseOptions } from '../runtime/options/validate.ts';
import type { HealthCheckReport, HealthReport } from './types.ts';

/** The HTML view of `/healthz`, for people; see `createHealthHandler`'s `page` option. */
export interface HealthPageOptions {
  /** The page's heading, and the end of its title. Default `Health`. */
  title?: string;
  /** How often the page shows the report again, in seconds. Default 5. */
  refreshSeconds?: number;
}

/** What the page renders: the whole report when details are shown, else its status alone. */
export type VisibleHealthReport = HealthReport | Pick<HealthReport, 'status'>;

export interface HealthPageRenderOptions {
  title: string;
  refreshSeconds: number;
  /** When the page was made, shown to the reader. Default now. */
  renderedAt?: Date;
}

const healthPageOptionsSchema = z.strictObject({
  title: z
    .string('must be a string')
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .optional(),
  refreshSeconds: z
    .number('must be a number')
    .int('must be a whole number of seconds')
    .min(1, 'must be at least 1')
    .max(3600, 'must be at most 3600')
    .optional(),
});

/** The page's settings, or undefined when it is off; throws `ConfigError` on a bad option. */
export function resolveHealthPageOptions(page: unknown): HealthPageRenderOptions | undefined {
  if (page === undefined || page === false) return undefined;
  const given = page === true ? {} : page;
  const parsed = parseOptions(healthPageOptionsSchema, given, 'health page options');
  return { title: parsed.title ?? 'Health', refreshSeconds: parsed.refreshSeconds ?? 5 };
}

const htmlEscapes: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an HTML element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => htmlEscapes[character] ?? character);
}

/**
 * Whether a request's `Accept` header ranks `text/html` above JSON, as a browser's does; `*\/*`
 * alone (curl, fetch, probes) keeps JSON.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const html = acceptQuality(accept, 'text', 'html');
  return html > 0 && html > acceptQuality(accept, 'application', 'json');
}

// The quality of the most specific media range that matches type/subtype (RFC 9110, 12.5.1).
function acceptQuality(accept: string, type: string, subtype: string): number {
  let best = { specificity: -1, quality: 0 };
  for (const range of accept.split(',')) {
    const [media = '', ...parameters] = range.split(';');
    const [rangeType = '', rangeSubtype = ''] = media.trim().toLowerCase().split('/');
    const specificity =
      rangeType === type && rangeSubtype === subtype
        ? 2
        : rangeType === type && rangeSubtype === '*'
          ? 1
          : rangeType === '*' && rangeSubtype === '*'
            ? 0
            : -1;
    if (specificity <= best.specificity) continue;
    const q = parameters.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    const quality = q === undefined ? 1 : Number(q.slice(2));
    best = { specificity, quality: Number.isFinite(quality) ? quality : 0 };
  }
  return best.quality;
}

// Polls the page itself rather than the JSON, so the server's escaping renderer is the only one.
// Only the parts that changed are replaced: the live status line speaks only on a change.
const refreshScript = `(() => {
  const seconds = Number(document.documentElement.dataset.refreshSeconds) || 5;
  const pause = document.getElementById('pause');
  const connection = document.getElementById('connection');
  let paused = false;
  let timer;
  const schedule = () => {
    clearTimeout(timer);
    if (!paused) timer = setTimeout(refresh, seconds * 1000);
  };
  const swap = (next) => {
    for (const id of ['overall', 'checks', 'updated']) {
      const current = document.getElementById(id);
      const incoming = next.getElementById(id);
      if (!current || !incoming || current.innerHTML === incoming.innerHTML) continue;
      current.replaceChildren(...Array.from(incoming.childNodes, (node) => document.importNode(node, true)));
    }
    document.title = next.title;
  };
  const refresh = async () => {
    try {
      const response = await fetch(location.pathname, {
        headers: { accept: 'text/html' },
        cache: 'no-store',
        signal: AbortSignal.timeout(seconds * 1000),
      });
      const next = new DOMParser().parseFromString(await response.text(), 'text/html');
      if (!next.getElementById('overall')) throw new Error('not a health page');
      swap(next);
      connection.textContent = '';
    } catch {
      connection.textContent = 'The service did not answer: this is the last state it reported.';
    }
    schedule();
  };
  pause.hidden = false;
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume updates' : 'Pause updates';
    if (paused) clearTimeout(timer);
    else void refresh();
  });
  schedule();
})();`;

// Contrast of each status pair is above 7:1 (WCAG AAA); the status is also written in words.
const pageStyle = `
body { font: 1rem/1.5 system-ui, sans-serif; margin: 1.5rem; color: #1a1a1a; background: #fff; }
table { border-collapse: collapse; margin-top: 1rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.25rem; }
th, td { border: 1px solid #767676; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; }
th[scope="row"] { white-space: nowrap; }
.status { font-weight: 700; }
strong.status { padding: 0 0.3rem; }
.status-up { color: #0b4f1c; background: #e3f3e7; }
.status-degraded { color: #5c4200; background: #fff2cc; }
.status-down { color: #8a1111; background: #fde7e7; }
code { font-size: 0.9em; word-break: break-word; }
button { font: inherit; margin-top: 0.5rem; }
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Headers of the page: no external asset may load, and only its own script and style run. */
export const healthPageHeaders: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': [
    "default-src 'none'",
    `script-src ${sha256(refreshScript)}`,
    `style-src ${sha256(pageStyle)}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
});

const statusWords: Readonly<Record<HealthStatus, string>> = { up: 'Up', degraded: 'Degraded', down: 'Down' };

/** The whole page, every value escaped; a report without `checks` shows the overall status only. */
export function renderHealthPage(report: VisibleHealthReport, options: HealthPageRenderOptions): string {
  const status = statusWords[report.status];
  const title = escapeHtml(options.title);
  const seconds = String(options.refreshSeconds);
  const renderedAt = (options.renderedAt ?? new Date()).toISOString();
  const reason = 'reason' in report && report.reason !== undefined ? ` (${escapeHtml(report.reason)})` : '';
  return `<!doctype html>
<html lang="en" data-refresh-seconds="${seconds}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<noscript><meta http-equiv="refresh" content="${seconds}"></noscript>
<title>${status} – ${title}</title>
<style>${pageStyle}</style>
</head>
<body>
<main>
<h1>${title}</h1>
<p id="overall" role="status">Overall status: <strong class="status status-${report.status}">${status}</strong>${reason}</p>
<p>Updated every ${seconds} seconds; last update: <span id="updated"><time datetime="${renderedAt}">${renderedAt.slice(11, 19)} UTC</time></span>.</p>
<p id="connection" aria-live="polite"></p>
<button type="button" id="pause" aria-pressed="false" hidden>Pause updates</button>
<div id="checks">${'checks' in report ? checksTable(report.checks) : detailsHidden}</div>
</main>
<script>${refreshScript}</script>
</body>
</html>
`;
}

const detailsHidden = '<p>The checks of this service are not shown here: details are turned off.</p>';

const columns = [
  'Check',
  'Status',
  'Critical',
  'Latency',
  'Circuit breaker',
  'Tags',
  'Last error',
  'Other details',
];

function checksTable(checks: Readonly<Record<string, HealthCheckReport>>): string {
  const entries = Object.entries(checks);
  const counts = { up: 0, degraded: 0, down: 0 };
  for (const [, check] of entries) counts[check.status] += 1;
  const caption = `Checks: ${entries.length} (${counts.up} up, ${counts.degraded} degraded, ${counts.down} down)`;
  const head = columns.map((column) => `<th scope="col">${column}</th>`).join('');
  const rows =
    entries.length === 0
      ? `<tr><td colspan="${columns.length}">No checks are registered.</td></tr>`
      : entries.map(([name, check]) => checkRow(name, check)).join('\n');
  return `<table>
<caption>${caption}</caption>
<thead><tr>${head}</tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

function checkRow(name: string, check: HealthCheckReport): string {
  const { circuit, ...otherDetails } = check.details ?? {};
  const cells = [
    `<td class="status status-${check.status}">${statusWords[check.status]}</td>`,
    `<td>${check.critical ? 'Yes' : 'No'}</td>`,
    `<td>${formatLatency(check.latencyMs)}</td>`,
    `<td>${typeof circuit === 'string' ? escapeHtml(circuit) : 'none'}</td>`,
    `<td>${check.tags.length === 0 ? 'none' : escapeHtml(check.tags.join(', '))}</td>`,
    `<td>${check.error === undefined ? 'none' : escapeHtml(check.error)}</td>`,
    `<td>${Object.keys(otherDetails).length === 0 ? 'none' : `<code>${escapeHtml(detailsText(otherDetails))}</code>`}</td>`,
  ];
  return `<tr><th scope="row">${escapeHtml(name)}</th>${cells.join('')}</tr>`;
}

function formatLatency(ms: number): string {
  return Number.isFinite(ms) ? `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms` : 'unknown';
}

const maxDetailsLength = 500;

// A broker's subscriptions can be long: the JSON report has them whole.
function detailsText(details: Record<string, unknown>): string {
  let text: string;
  try {
    text = JSON.stringify(details);
  } catch {
    return 'not shown: not serializable';
  }
  return text.length > maxDetailsLength ? `${text.slice(0, maxDetailsLength)}…` : text;
}
