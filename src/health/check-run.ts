import type { HealthResult, HealthStatus } from '../ports/component.ts';
import { InfraError } from '../ports/errors.ts';
import type { HealthCheckReport, HealthCheckTarget, HealthProbe, HealthReport } from './types.ts';

/** One check as the checker keeps it, its options resolved. */
export interface RegisteredCheck {
  name: string;
  target: HealthCheckTarget;
  critical: boolean;
  tags: readonly string[];
  timeoutMs: number;
  probes: ReadonlySet<HealthProbe>;
}

/** Runs `checks` in parallel, each cut at its timeout, into one report. Never rejects for a check. */
export async function runChecks(checks: readonly RegisteredCheck[]): Promise<HealthReport> {
  const started = performance.now();
  const reports = await Promise.all(checks.map((check) => runCheck(check)));
  return Object.freeze({
    status: aggregateStatus(reports),
    checks: Object.freeze(Object.fromEntries(checks.map((check, i) => [check.name, reports[i]]))),
    durationMs: roundMs(performance.now() - started),
  }) as HealthReport;
}

/** A report that ran no checks, e.g. `shutting down`. */
export function reasonReport(reason: string): HealthReport {
  return { status: 'down', reason, checks: {}, durationMs: 0 };
}

function runCheck(check: RegisteredCheck): Promise<HealthCheckReport> {
  const controller = new AbortController();
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: HealthResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(checkReport(check, result, performance.now() - started));
    };
    const timer = setTimeout(() => {
      const message = `timed out after ${check.timeoutMs} ms`;
      // Settle first: abort listeners run synchronously and must not win the race.
      finish({ status: 'down', error: message });
      controller.abort(
        new InfraError('timeout', `health check "${check.name}" ${message}`, { operation: 'health' }),
      );
    }, check.timeoutMs);
    invokeCheck(check.target, controller.signal).then(finish, (error: unknown) =>
      finish({ status: 'down', error: errorMessage(error) }),
    );
  });
}

async function invokeCheck(target: HealthCheckTarget, signal: AbortSignal): Promise<HealthResult> {
  const result: unknown = typeof target === 'function' ? await target(signal) : await target.health(signal);
  if (result === undefined) return { status: 'up' };
  if (!isHealthResult(result)) return { status: 'down', error: 'returned an invalid health result' };
  return result;
}

function checkReport(check: RegisteredCheck, result: HealthResult, latencyMs: number): HealthCheckReport {
  const report: HealthCheckReport = {
    status: result.status,
    latencyMs: roundMs(latencyMs),
    critical: check.critical,
    tags: check.tags,
  };
  if (typeof result.error === 'string') report.error = result.error;
  if (isRecord(result.details)) report.details = result.details;
  return Object.freeze(report);
}

function aggregateStatus(reports: readonly HealthCheckReport[]): HealthStatus {
  let status: HealthStatus = 'up';
  for (const report of reports) {
    if (report.status === 'down' && report.critical) return 'down';
    if (report.status !== 'up') status = 'degraded';
  }
  return status;
}

const healthStatuses: ReadonlySet<unknown> = new Set<HealthStatus>(['up', 'degraded', 'down']);

function isHealthResult(value: unknown): value is HealthResult {
  return isRecord(value) && healthStatuses.has(value['status']);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function errorMessage(error: unknown): string {
  if (typeof error === 'string' && error.length > 0) return error;
  if (isRecord(error) && typeof error['message'] === 'string' && error['message'].length > 0) {
    return error['message'];
  }
  return 'check failed';
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
