/**
 * Soak of the example service (examples/service.ts) on Redis and Kafka: mixed HTTP load for a
 * while, the service process's resident memory (VmRSS) and open descriptors (/proc/<pid>/fd)
 * sampled at a fixed interval, then a verdict.
 *
 *   node scripts/soak.ts --minutes 10           the run of issue #15
 *   node scripts/soak.ts --seconds 60 --sample-seconds 5 --rss-tolerance 0.5
 *
 * Flat means: the median RSS of the last third of the samples is at most `--rss-tolerance`
 * (default 0.15) above the median of the second third, the median descriptor count of the last
 * third at most `--fd-slack` (default 5) above the second third's, no request got a non-2xx
 * answer or none at all, and the service exited 0 on SIGTERM. The first third is warm-up.
 * SQL (the app counts greetings in a table) on PostgreSQL, or `--sql embedded` for PGlite in the
 * service's process (~500 MB of WebAssembly heap that only grows, which hides a smaller leak).
 * Servers: REDIS_URL, KAFKA_BROKERS, POSTGRES_URL when set, else `npm run services` starts them.
 * The service's in-process stores are bounded (time series points expire after a minute, at most
 * 10,000 kept; greetings go to 200 names), so what grows is a leak, not data kept by design.
 * Exits 0 when the verdict is flat, 1 when not, 2 on bad arguments.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ensureService } from '../test/servers/services.ts';
import { freePort } from '../test/support/ports.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    'sample-seconds': { type: 'string', default: '10' },
    rate: { type: 'string', default: '100' },
    'rss-tolerance': { type: 'string', default: '0.15' },
    'fd-slack': { type: 'string', default: '5' },
    sql: { type: 'string', default: 'postgres' },
  },
});

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`--${name} must be a positive number, not ${text}\n`);
    process.exit(2);
  }
  return value;
}

const durationMs =
  values.seconds !== undefined
    ? positive('seconds', values.seconds) * 1000
    : positive('minutes', values.minutes ?? '10') * 60_000;
const sampleMs = positive('sample-seconds', values['sample-seconds']) * 1000;
const requestsPerSecond = positive('rate', values.rate);
const rssTolerance = positive('rss-tolerance', values['rss-tolerance']);
const fdSlack = positive('fd-slack', values['fd-slack']);
const sqlDriver = values.sql;
if (sqlDriver !== 'postgres' && sqlDriver !== 'embedded') {
  process.stderr.write(`--sql must be postgres or embedded, not ${sqlDriver}\n`);
  process.exit(2);
}
if (durationMs < sampleMs * 6) {
  process.stderr.write('the run must hold at least six samples (two a third)\n');
  process.exit(2);
}

const root = path.join(import.meta.dirname, '..');
const NAMES = 200;
const WORKERS = 10;
const REQUEST_TIMEOUT_MS = 5_000;

interface Sample {
  atS: number;
  rssMb: number;
  fds: number;
  requests: number;
  errors: number;
  p99Ms: number;
}

async function serverEnv(): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    CACHE_DRIVER: 'redis',
    BROKER_DRIVER: 'kafka',
    SQL_DRIVER: sqlDriver,
  };
  const servers: [string, string][] = [
    ['REDIS_URL', 'redis'],
    ['KAFKA_BROKERS', 'kafka'],
    ...(sqlDriver === 'postgres' ? [['POSTGRES_URL', 'postgres'] as [string, string]] : []),
  ];
  for (const [variable, service] of servers) {
    const value = process.env[variable] || (await ensureService(service))[variable];
    if (!value) throw new Error(`no ${variable} from the services script`);
    env[variable] = value;
  }
  return env;
}

/** VmRSS in MB and the count of open descriptors of a live process. */
function measure(pid: number): { rssMb: number; fds: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return { rssMb: kb / 1024, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

function median(numbers: readonly number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function percentile(numbers: number[], p: number): number {
  if (numbers.length === 0) return 0;
  numbers.sort((a, b) => a - b);
  return numbers[Math.min(numbers.length - 1, Math.floor(numbers.length * p))]!;
}

/** One request of the mix: mostly greetings (cache, publish, time series), then reads and probes. */
function nextPath(runId: string): string {
  const name = `soak-${runId}-${Math.floor(Math.random() * NAMES)}`;
  const roll = Math.random();
  if (roll < 0.6) return `/greet/${name}`;
  if (roll < 0.8) return `/greeted/${name}`;
  if (roll < 0.9) return `/stats/${name}`;
  if (roll < 0.95) return '/readyz';
  return '/metrics';
}

async function main(): Promise<number> {
  const port = await freePort();
  const child = spawn(process.execPath, ['examples/service.ts'], {
    cwd: root,
    env: {
      ...process.env,
      ...(await serverEnv()),
      PORT: String(port),
      LOG_LEVEL: 'warn',
      TIME_SERIES_DRIVER: 'memory',
      TIME_SERIES_MAX_POINTS: '10000',
      TIME_SERIES_DEFAULT_TTL_MS: '60000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  const logTail: string[] = [];
  const keep = (chunk: Buffer): void => {
    logTail.push(...chunk.toString().trimEnd().split('\n'));
    logTail.splice(0, Math.max(0, logTail.length - 20));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const base = `http://127.0.0.1:${port}`;

  try {
    const readyBy = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited at start:\n${logTail.join('\n')}`);
      const status = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
        (res) => res.status,
        () => 0,
      );
      if (status === 200) break;
      if (Date.now() > readyBy)
        throw new Error(`the service was not ready within 120 s:\n${logTail.join('\n')}`);
      await sleep(250);
    }
    const runId = `${process.pid}${Date.now().toString(36)}`;
    process.stdout.write(
      `soak: example service pid ${pid} on ${base}, Redis cache, Kafka broker, SQL ${sqlDriver}; ${durationMs / 1000} s at ` +
        `${requestsPerSecond} requests/s, a sample every ${sampleMs / 1000} s\n`,
    );

    let requests = 0;
    let latencies: number[] = [];
    const errors = new Map<string, number>();
    let windowErrors = 0;
    const endAt = performance.now() + durationMs;
    const worker = async (): Promise<void> => {
      const spacingMs = (WORKERS * 1000) / requestsPerSecond;
      await sleep(Math.random() * spacingMs);
      while (performance.now() < endAt) {
        const started = performance.now();
        let failure: string | undefined;
        const url = nextPath(runId);
        try {
          const res = await fetch(`${base}${url}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
          await res.arrayBuffer();
          if (res.status < 200 || res.status > 299) failure = `${res.status} ${url.split('/')[1]}`;
        } catch (error) {
          failure = error instanceof Error ? error.name : 'error';
        }
        const elapsed = performance.now() - started;
        requests++;
        latencies.push(elapsed);
        if (failure !== undefined) {
          windowErrors++;
          errors.set(failure, (errors.get(failure) ?? 0) + 1);
        }
        await sleep(Math.max(0, spacingMs - elapsed));
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, worker));

    const samples: Sample[] = [];
    const startedAt = performance.now();
    let requestsBefore = 0;
    for (let next = sampleMs; next <= durationMs; next += sampleMs) {
      await sleep(Math.max(0, startedAt + next - performance.now()));
      if (child.exitCode !== null) throw new Error(`the service died:\n${logTail.join('\n')}`);
      const sample: Sample = {
        atS: Math.round((performance.now() - startedAt) / 1000),
        ...measure(pid),
        requests: requests - requestsBefore,
        errors: windowErrors,
        p99Ms: percentile(latencies, 0.99),
      };
      requestsBefore = requests;
      windowErrors = 0;
      latencies = [];
      samples.push(sample);
      process.stdout.write(
        `t=${String(sample.atS).padStart(4)}s rss=${sample.rssMb.toFixed(1)} MB fds=${sample.fds} ` +
          `requests=${sample.requests} errors=${sample.errors} p99=${sample.p99Ms.toFixed(0)} ms\n`,
      );
    }
    await load;

    child.kill('SIGTERM');
    const shutdown = await Promise.race([
      exited.then(([code, signal]) => (code === 0 ? 'exit 0' : (signal ?? `exit ${code}`))),
      sleep(30_000).then(() => 'still running 30 s after SIGTERM'),
    ]);
    return verdict(samples, requests, errors, shutdown, logTail);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function verdict(
  samples: readonly Sample[],
  requests: number,
  errors: ReadonlyMap<string, number>,
  shutdown: string,
  logTail: readonly string[],
): number {
  const third = Math.floor(samples.length / 3);
  const second = samples.slice(third, 2 * third);
  const last = samples.slice(samples.length - third);
  const rssSecond = median(second.map((s) => s.rssMb));
  const rssLast = median(last.map((s) => s.rssMb));
  const fdSecond = median(second.map((s) => s.fds));
  const fdLast = median(last.map((s) => s.fds));
  const errorCount = [...errors.values()].reduce((sum, n) => sum + n, 0);
  const rssFlat = rssLast <= rssSecond * (1 + rssTolerance);
  const fdFlat = fdLast <= fdSecond + fdSlack;
  const flat = rssFlat && fdFlat && errorCount === 0 && shutdown === 'exit 0';
  const out = process.stdout;
  out.write(`rss MB: ${samples.map((s) => s.rssMb.toFixed(0)).join(' ')}\n`);
  out.write(`fds:    ${samples.map((s) => s.fds).join(' ')}\n`);
  out.write(
    `rss median ${rssSecond.toFixed(1)} MB (second third) -> ${rssLast.toFixed(1)} MB (last third), ` +
      `${(((rssLast - rssSecond) / rssSecond) * 100).toFixed(1)}% (limit +${(rssTolerance * 100).toFixed(0)}%): ` +
      `${rssFlat ? 'flat' : 'GROWING'}\n`,
  );
  out.write(
    `fds median ${fdSecond} -> ${fdLast} (limit +${fdSlack}): ${fdFlat ? 'flat' : 'GROWING'}\n` +
      `${requests} requests, ${errorCount} errors${errorCount ? ` (${[...errors].map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''}; ` +
      `shutdown: ${shutdown}\n`,
  );
  if (!flat && logTail.length > 0) out.write(`last lines of the service:\n${logTail.join('\n')}\n`);
  out.write(`verdict: ${flat ? 'FLAT' : 'NOT FLAT'}\n`);
  return flat ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
