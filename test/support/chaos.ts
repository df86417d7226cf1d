/**
 * Chaos cells: one adapter behind a Toxiproxy proxy, one toxic, load while it lasts, then the
 * toxic removed and the same adapter object expected to work again. A cell measures what issue
 * #15 asks of every backend: how late calls settle past their deadline, which reasons failures
 * carry, the event loop's delay, memory and pending work, readiness during the fault, and the
 * time to recover. `assertCell` turns the figures into assertions; `formatRow` prints them.
 */
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { HealthResult, HealthStatus } from '../../src/ports/component.ts';
import { isInfraError } from '../../src/ports/errors.ts';
import type { ToxiProxy, ToxicSpec } from './toxiproxy.ts';

export const chaosToxics = ['latency', 'bandwidth', 'reset_peer', 'timeout', 'slicer'] as const;
export type ChaosToxic = (typeof chaosToxics)[number];

/** Each toxic on both directions: a request and its reply both cross the fault. */
function toxicsOf(toxic: ChaosToxic, latencyMs: number): ToxicSpec[] {
  const both = (spec: Omit<ToxicSpec, 'stream'>): ToxicSpec[] => [
    { ...spec, stream: 'upstream' },
    { ...spec, stream: 'downstream' },
  ];
  switch (toxic) {
    case 'latency':
      return both({ type: 'latency', attributes: { latency: latencyMs, jitter: 0 } });
    case 'bandwidth':
      return both({ type: 'bandwidth', attributes: { rate: 1 } });
    case 'reset_peer':
      return both({ type: 'reset_peer', attributes: { timeout: 0 } });
    case 'timeout':
      return both({ type: 'timeout', attributes: { timeout: 0 } });
    case 'slicer':
      return both({ type: 'slicer', attributes: { average_size: 16, size_variation: 8, delay: 50 } });
  }
}

/** One adapter behind a proxy, as a cell drives it. */
export interface ChaosSubject {
  readonly backend: string;
  readonly proxy: ToxiProxy;
  /** The longest a call may take: the adapter's budget per call. */
  readonly deadlineMs: number;
  /** One call of the port; `i` numbers the calls, for distinct keys. */
  call(i: number): Promise<unknown>;
  /** The adapter's own health (its readiness). */
  health(): Promise<HealthResult>;
  /** Work the driver holds (queued requests, busy connections), where it can tell. */
  pending?(): number;
  close(): Promise<void>;
}

export interface CellOptions {
  /** How long the toxic stays, with load running. */
  readonly toxicMs: number;
  /** Calls started per second, whether or not earlier ones have settled (an open loop). */
  readonly callsPerSecond: number;
  /** The latency toxic's delay each way. */
  readonly latencyMs: number;
  /** How long the adapter may take to answer again once the toxic is gone. */
  readonly recoveryLimitMs: number;
}

/** CI: a few seconds a cell. `node scripts/chaos.ts` runs longer cells. */
export const ciCellOptions: CellOptions = {
  toxicMs: 3_000,
  callsPerSecond: 40,
  latencyMs: 3_000,
  recoveryLimitMs: 20_000,
};

export interface CellResult {
  readonly backend: string;
  readonly toxic: ChaosToxic;
  readonly deadlineMs: number;
  readonly calls: number;
  readonly succeeded: number;
  /** Failure reasons with their counts; `not-infra` for an error that is no InfraError. */
  readonly reasons: Readonly<Record<string, number>>;
  /** Calls still unsettled a second past their deadline. */
  readonly hung: number;
  /** p99 and maximum of (time to settle − deadline), over every call. */
  readonly p99OverMs: number;
  readonly maxOverMs: number;
  /** The event loop's delay p99 while the toxic lasted, beyond the sampling interval. */
  readonly loopP99Ms: number;
  /** Calls in flight at once, at most. */
  readonly inFlightPeak: number;
  /** heapUsed after recovery minus before the toxic, both after a full collection. */
  readonly heapGrowthMb: number;
  readonly pendingPeak: number | undefined;
  readonly pendingAfter: number | undefined;
  /** Health statuses seen while the toxic lasted, and how soon the first one other than up came. */
  readonly healthSeen: readonly HealthStatus[];
  readonly notUpAfterMs: number | undefined;
  /** From the toxic's removal to the first call that succeeded, and to health up again. */
  readonly recoveryMs: number | undefined;
  readonly healthUpMs: number | undefined;
}

const loopResolutionMs = 10;
const healthEveryMs = 200;

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

function heapUsedAfterGc(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Polls `attempt` every `everyMs` until it resolves true; the time taken, or undefined past `limitMs`. */
async function timeUntil(
  attempt: () => Promise<boolean>,
  limitMs: number,
  everyMs = 100,
): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (await attempt().catch(() => false)) return performance.now() - started;
    await sleep(everyMs);
  }
  return undefined;
}

async function callSucceeds(subject: ChaosSubject, i: number): Promise<boolean> {
  await subject.call(i);
  return true;
}

/** Waits until the subject answers through its proxy, with no toxic: every cell starts healthy. */
export async function waitHealthy(subject: ChaosSubject, limitMs = 30_000): Promise<void> {
  await subject.proxy.clearToxics();
  let i = 1_000_000;
  const calls = await timeUntil(() => callSucceeds(subject, i++), limitMs);
  assert.ok(
    calls !== undefined,
    `${subject.backend}: no call succeeded within ${limitMs} ms before the cell`,
  );
  const up = await timeUntil(async () => (await subject.health()).status === 'up', limitMs);
  assert.ok(up !== undefined, `${subject.backend}: health not up within ${limitMs} ms before the cell`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs one cell: toxic on, load and health polls while it lasts, toxic off, recovery. */
export async function runCell(
  subject: ChaosSubject,
  toxic: ChaosToxic,
  options: CellOptions,
): Promise<CellResult> {
  await waitHealthy(subject);
  const heapBefore = heapUsedAfterGc();
  const overs: number[] = [];
  const reasons: Record<string, number> = {};
  let calls = 0;
  let succeeded = 0;
  let inFlight = 0;
  let inFlightPeak = 0;
  let pendingPeak: number | undefined;
  const settled: Promise<void>[] = [];

  const loop = monitorEventLoopDelay({ resolution: loopResolutionMs });
  for (const spec of toxicsOf(toxic, options.latencyMs)) await subject.proxy.addToxic(spec);
  const toxicAt = performance.now();
  loop.enable();

  const launch = (): void => {
    const started = performance.now();
    inFlight++;
    inFlightPeak = Math.max(inFlightPeak, inFlight);
    calls++;
    settled.push(
      subject
        .call(calls)
        .then(
          () => {
            succeeded++;
          },
          (error: unknown) => {
            const reason = isInfraError(error) ? error.reason : 'not-infra';
            reasons[reason] = (reasons[reason] ?? 0) + 1;
          },
        )
        .finally(() => {
          inFlight--;
          overs.push(performance.now() - started - subject.deadlineMs);
        }),
    );
  };
  const load = setInterval(launch, 1_000 / options.callsPerSecond);

  const healthSeen = new Set<HealthStatus>();
  let notUpAfterMs: number | undefined;
  while (performance.now() - toxicAt < options.toxicMs) {
    const status = (await subject.health()).status;
    healthSeen.add(status);
    if (status !== 'up') notUpAfterMs ??= performance.now() - toxicAt;
    const pending = subject.pending?.();
    if (pending !== undefined) pendingPeak = Math.max(pendingPeak ?? 0, pending);
    await sleep(healthEveryMs);
  }
  clearInterval(load);
  // Every call must settle by its deadline; a second past it, what is left counts as hung.
  const allSettled = Promise.all(settled).then(() => true);
  const inTime = await Promise.race([allSettled, sleep(subject.deadlineMs + 1_000, false)]);
  const hung = inTime ? 0 : inFlight;
  loop.disable();

  await subject.proxy.clearToxics();
  const removedAt = performance.now();
  let i = 2_000_000;
  const recoveryMs = await timeUntil(() => callSucceeds(subject, i++), options.recoveryLimitMs);
  const healthUpMs =
    recoveryMs === undefined
      ? undefined
      : await timeUntil(
          async () => (await subject.health()).status === 'up',
          options.recoveryLimitMs - (performance.now() - removedAt),
        ).then((ms) => (ms === undefined ? undefined : performance.now() - removedAt));
  if (!inTime) await Promise.race([allSettled, sleep(1_000)]);
  const heapAfter = heapUsedAfterGc();

  const sorted = overs.toSorted((a, b) => a - b);
  return {
    backend: subject.backend,
    toxic,
    deadlineMs: subject.deadlineMs,
    calls,
    succeeded,
    reasons,
    hung,
    p99OverMs: hung > 0 ? Number.POSITIVE_INFINITY : percentile(sorted, 99),
    maxOverMs: hung > 0 ? Number.POSITIVE_INFINITY : (sorted.at(-1) ?? 0),
    loopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - loopResolutionMs),
    inFlightPeak,
    heapGrowthMb: (heapAfter - heapBefore) / 2 ** 20,
    pendingPeak,
    pendingAfter: subject.pending?.(),
    healthSeen: [...healthSeen],
    notUpAfterMs,
    recoveryMs,
    healthUpMs,
  };
}

/**
 * What each toxic does to calls: a hang or a black hole fails every call with `timeout`, a reset
 * with `unavailable`; 1 KB/s may let small calls through (a driver with a pool has that rate per
 * connection), slices must not fail any.
 */
const expected: Readonly<Record<ChaosToxic, { reason?: string; allowed: readonly string[] }>> = {
  latency: { reason: 'timeout', allowed: ['timeout', 'circuit_open', 'unavailable'] },
  bandwidth: { allowed: ['timeout', 'circuit_open', 'unavailable'] },
  timeout: { reason: 'timeout', allowed: ['timeout', 'circuit_open', 'unavailable'] },
  reset_peer: { reason: 'unavailable', allowed: ['unavailable', 'circuit_open', 'timeout'] },
  slicer: { allowed: [] },
};

/** Bounds a cell must keep; the figures are printed before they are asserted. */
export const cellBounds = {
  overDeadlineMs: 50,
  loopP99Ms: 50,
  heapGrowthMb: 32,
  /** Pending work once recovered, above what the subject held before. */
  pendingAfter: 10,
} as const;

/** Every assertion of one cell, each message naming the cell and the figure. */
export function assertCell(result: CellResult): void {
  const cell = `${result.backend} × ${result.toxic}`;
  const rule = expected[result.toxic];
  assert.equal(result.hung, 0, `${cell}: ${result.hung} calls still unsettled a second past their deadline`);
  assert.ok(
    result.p99OverMs <= cellBounds.overDeadlineMs,
    `${cell}: p99 of settle time − deadline is ${result.p99OverMs.toFixed(1)} ms (bound ${cellBounds.overDeadlineMs})`,
  );
  const seen = Object.keys(result.reasons);
  if (rule.reason !== undefined)
    assert.ok(
      seen.includes(rule.reason),
      `${cell}: no failure said '${rule.reason}' (reasons: ${formatReasons(result.reasons)})`,
    );
  for (const reason of seen)
    assert.ok(
      rule.allowed.includes(reason),
      `${cell}: a failure said '${reason}' (${formatReasons(result.reasons)})`,
    );
  // Readiness agrees with callers: down or degraded when most calls fail, up while none does.
  const failed = result.calls - result.succeeded;
  if (failed * 2 > result.calls)
    assert.ok(
      result.healthSeen.some((status) => status !== 'up'),
      `${cell}: health stayed up while ${failed} of ${result.calls} calls failed`,
    );
  if (failed === 0)
    assert.deepEqual(result.healthSeen, ['up'], `${cell}: health was not up while every call succeeded`);
  assert.ok(
    result.loopP99Ms < cellBounds.loopP99Ms,
    `${cell}: event-loop delay p99 ${result.loopP99Ms.toFixed(1)} ms (bound ${cellBounds.loopP99Ms})`,
  );
  assert.ok(
    result.heapGrowthMb < cellBounds.heapGrowthMb,
    `${cell}: heap grew by ${result.heapGrowthMb.toFixed(1)} MB (bound ${cellBounds.heapGrowthMb})`,
  );
  if (result.pendingAfter !== undefined)
    assert.ok(
      result.pendingAfter <= cellBounds.pendingAfter,
      `${cell}: ${result.pendingAfter} requests still pending in the driver after recovery`,
    );
  assert.ok(result.recoveryMs !== undefined, `${cell}: no call succeeded after the toxic was removed`);
  assert.ok(
    result.healthUpMs !== undefined,
    `${cell}: health did not come back up after the toxic was removed`,
  );
}

function formatReasons(reasons: Readonly<Record<string, number>>): string {
  const entries = Object.entries(reasons).sort(([, a], [, b]) => b - a);
  return entries.length === 0 ? '-' : entries.map(([reason, count]) => `${reason} ${count}`).join(', ');
}

const ms = (value: number | undefined): string =>
  value === undefined ? 'never' : Number.isFinite(value) ? `${Math.round(value)}` : 'hung';

export const tableHeader =
  '| backend | toxic | calls (ok) | p99 settle − deadline ms | max ms | reasons | loop p99 ms | in flight | heap Δ MB | pending peak/after | health seen (first not up ms) | recovery ms (health up ms) |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|---|';

/** One row of the chaos table (Markdown). */
export function formatRow(result: CellResult): string {
  const pending =
    result.pendingPeak === undefined && result.pendingAfter === undefined
      ? '-'
      : `${result.pendingPeak ?? '-'}/${result.pendingAfter ?? '-'}`;
  return (
    `| ${result.backend} | ${result.toxic} | ${result.calls} (${result.succeeded}) | ${ms(result.p99OverMs)} | ` +
    `${ms(result.maxOverMs)} | ${formatReasons(result.reasons)} | ${result.loopP99Ms.toFixed(1)} | ` +
    `${result.inFlightPeak} | ${result.heapGrowthMb.toFixed(1)} | ${pending} | ` +
    `${result.healthSeen.join('/')} (${ms(result.notUpAfterMs)}) | ${ms(result.recoveryMs)} (${ms(result.healthUpMs)}) |`
  );
}
