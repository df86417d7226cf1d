import { z } from 'zod';
import type { Component, HealthResult, HealthStatus } from '../ports/component.ts';
import { InfraError } from '../ports/errors.ts';
import { parseOptions } from '../options/validate.ts';

export type HealthProbe = 'liveness' | 'readiness' | 'startup';

export const healthProbes: readonly HealthProbe[] = ['liveness', 'readiness', 'startup'];
const healthProbeSet: ReadonlySet<unknown> = new Set(healthProbes);

/** Resolving nothing means up; throwing means down with the error's message. */
export type HealthCheckFunction = (signal: AbortSignal) => Promise<HealthResult | void>;

export type HealthCheckTarget = Pick<Component, 'health'> | HealthCheckFunction;

export interface HealthCheckOptions {
  /** Down makes the whole report down when true, degraded when false. Default true. */
  critical?: boolean;
  tags?: readonly string[];
  /** Overrides the checker's `defaultTimeoutMs`. */
  timeoutMs?: number;
  /** Which probes run this check. Default `['readiness']`. */
  probes?: readonly HealthProbe[];
}

export interface HealthCheckerOptions {
  /** How long a probe's report is reused. Default 1000; 0 disables caching (runs are still shared). */
  cacheTtlMs?: number;
  /** Timeout of a check registered without one. Default 2000. */
  defaultTimeoutMs?: number;
  /** Clock for cache expiry, in milliseconds. Default `performance.now`. */
  now?: () => number;
}

export interface HealthCheckReport {
  status: HealthStatus;
  latencyMs: number;
  critical: boolean;
  tags: readonly string[];
  error?: string;
  details?: Record<string, unknown>;
}

export interface HealthReport {
  status: HealthStatus;
  /** Why the probe answered without running its checks, e.g. `shutting down`. */
  reason?: string;
  checks: Readonly<Record<string, HealthCheckReport>>;
  durationMs: number;
}

interface RegisteredCheck {
  name: string;
  target: HealthCheckTarget;
  critical: boolean;
  tags: readonly string[];
  timeoutMs: number;
  probes: ReadonlySet<HealthProbe>;
}

/** `all` is every registered check, whatever its probes. */
type ProbeScope = HealthProbe | 'all';

type ProbeState =
  | { kind: 'idle' }
  | { kind: 'running'; run: Promise<HealthReport> }
  | { kind: 'fresh'; report: HealthReport; expiresAt: number };

const idle: ProbeState = { kind: 'idle' };

// setTimeout fires at once for larger delays.
const maxTimeoutMs = 2 ** 31 - 1;

// Strict, so a Runtime or a misspelt option passed here is refused instead of ignored.
const healthCheckerOptionsSchema = z.strictObject({
  cacheTtlMs: z.number().min(0, 'must be a finite number >= 0').optional(),
  defaultTimeoutMs: z
    .number()
    .refine((value) => isTimeout(value), `must be a number > 0 and <= ${maxTimeoutMs}`)
    .optional(),
  now: z.custom<() => number>((value) => typeof value === 'function', 'must be a function').optional(),
});

/**
 * Aggregates components and check functions into liveness, readiness and startup reports.
 * Checks run in parallel, each cut at its timeout; each probe's report is cached for
 * `cacheTtlMs` and concurrent callers share one run. The probe methods never throw.
 */
export class HealthChecker {
  readonly #cacheTtlMs: number;
  readonly #defaultTimeoutMs: number;
  readonly #now: () => number;
  readonly #checks = new Map<string, RegisteredCheck>();
  readonly #states = new Map<ProbeScope, ProbeState>();
  #started = false;
  #shuttingDown = false;
  readonly #registration = {
    name: registrationSchema('name', (name) => this.#checks.has(name)),
    id: registrationSchema('id', (name) => this.#checks.has(name)),
  };

  constructor(options: HealthCheckerOptions = {}) {
    const parsed = parseOptions(healthCheckerOptionsSchema, options, 'health checker options');
    this.#cacheTtlMs = parsed.cacheTtlMs ?? 1000;
    this.#defaultTimeoutMs = parsed.defaultTimeoutMs ?? 2000;
    this.#now = parsed.now ?? (() => performance.now());
  }

  get isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  get isStarted(): boolean {
    return this.#started;
  }

  /** Adds a component, named by its `id`; returns a function that removes it. */
  register(component: Pick<Component, 'id' | 'health'>, options?: HealthCheckOptions): () => void;
  /** Adds a check; returns a function that removes it. Throws `ConfigError` on a bad option or a taken name. */
  register(name: string, target: HealthCheckTarget, options?: HealthCheckOptions): () => void;
  register(
    nameOrComponent: string | Pick<Component, 'id' | 'health'>,
    targetOrOptions?: HealthCheckTarget | HealthCheckOptions,
    options: HealthCheckOptions = {},
  ): () => void {
    if (typeof nameOrComponent === 'string') {
      return this.#add('name', nameOrComponent, targetOrOptions, options);
    }
    const id = isRecord(nameOrComponent) ? nameOrComponent['id'] : undefined;
    return this.#add('id', id, nameOrComponent, (targetOrOptions ?? {}) as HealthCheckOptions);
  }

  /** `namePath` says where the name came from, for the error: the `name` argument or the component's `id`. */
  #add(namePath: 'name' | 'id', name: unknown, target: unknown, options: HealthCheckOptions): () => void {
    const { critical, tags, timeoutMs, probes } = options;
    parseOptions(
      this.#registration[namePath],
      { [namePath]: name, target, critical, tags, timeoutMs, probes },
      `health check "${String(name)}"`,
    );
    const check: RegisteredCheck = {
      name: name as string,
      target: target as HealthCheckTarget,
      critical: options.critical ?? true,
      tags: Object.freeze([...(options.tags ?? [])]),
      timeoutMs: options.timeoutMs ?? this.#defaultTimeoutMs,
      probes: new Set(options.probes ?? ['readiness']),
    };
    this.#checks.set(check.name, check);
    this.#invalidate(check.probes);
    return () => {
      // Only this registration: the name may have been registered again since.
      if (this.#checks.get(check.name) !== check) return;
      this.#checks.delete(check.name);
      this.#invalidate(check.probes);
    };
  }

  /** Runs only checks registered for liveness: it must not depend on external systems. */
  async liveness(): Promise<HealthReport> {
    return this.#answer('liveness');
  }

  /** Down at once, without running checks, after `beginShutdown()`. */
  async readiness(): Promise<HealthReport> {
    return this.#answer('readiness');
  }

  /** Down until `markStarted()`, then runs the checks registered for startup. */
  async startup(): Promise<HealthReport> {
    return this.#answer('startup');
  }

  /** Every registered check, whatever its probes, under readiness rules: what `/healthz` shows. */
  async report(): Promise<HealthReport> {
    return this.#answer('all');
  }

  markStarted(): void {
    this.#started = true;
  }

  /** Readiness (and the full report) answer down from now on, so traffic drains before close. */
  beginShutdown(): void {
    this.#shuttingDown = true;
  }

  async #answer(scope: ProbeScope): Promise<HealthReport> {
    try {
      const early = this.#answerWithoutChecks(scope);
      if (early !== undefined) return early;
      const report = await this.#shared(scope);
      // A run that began before beginShutdown() must not report ready after it.
      return this.#answerWithoutChecks(scope) ?? report;
    } catch (error) {
      return reasonReport(`health checker failed: ${errorMessage(error)}`);
    }
  }

  #answerWithoutChecks(scope: ProbeScope): HealthReport | undefined {
    if (scope === 'startup' && !this.#started) return reasonReport('not started');
    const drains = scope === 'readiness' || scope === 'all';
    if (drains && this.#shuttingDown) return reasonReport('shutting down');
    return undefined;
  }

  #shared(scope: ProbeScope): Promise<HealthReport> {
    const state = this.#states.get(scope) ?? idle;
    if (state.kind === 'running') return state.run;
    if (state.kind === 'fresh' && this.#now() < state.expiresAt) return Promise.resolve(state.report);
    const run = this.#runChecks(scope).then((report) => {
      // A registration change during the run replaced the state: do not cache a stale set of checks.
      if (this.#states.get(scope) === running) this.#states.set(scope, this.#freshState(report));
      return report;
    });
    const running: ProbeState = { kind: 'running', run };
    this.#states.set(scope, running);
    return run;
  }

  #freshState(report: HealthReport): ProbeState {
    if (this.#cacheTtlMs === 0) return idle;
    try {
      return { kind: 'fresh', report, expiresAt: this.#now() + this.#cacheTtlMs };
    } catch {
      return idle;
    }
  }

  #invalidate(probes: ReadonlySet<HealthProbe>): void {
    for (const probe of probes) this.#states.delete(probe);
    this.#states.delete('all');
  }

  async #runChecks(scope: ProbeScope): Promise<HealthReport> {
    const started = performance.now();
    const checks = [...this.#checks.values()].filter((c) => scope === 'all' || c.probes.has(scope));
    const reports = await Promise.all(checks.map((check) => runCheck(check)));
    return Object.freeze({
      status: aggregateStatus(reports),
      checks: Object.freeze(Object.fromEntries(checks.map((check, i) => [check.name, reports[i]]))),
      durationMs: roundMs(performance.now() - started),
    }) as HealthReport;
  }
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

function reasonReport(reason: string): HealthReport {
  return { status: 'down', reason, checks: {}, durationMs: 0 };
}

const nonEmpty = 'must be a non-empty string';

// Built from the checks taken so far: a taken name is one more issue, reported with the others.
function registrationSchema(namePath: 'name' | 'id', taken: (name: string) => boolean) {
  const name = z
    .string(nonEmpty)
    .min(1, nonEmpty)
    .refine((value) => !taken(value), {
      error: (issue) => `a check named "${String(issue.input)}" is already registered`,
    });
  return z.object({
    [namePath]: name,
    target: z.custom<HealthCheckTarget>(
      (value) => typeof value === 'function' || (isRecord(value) && typeof value['health'] === 'function'),
      'must be a Component or a check function',
    ),
    critical: z.boolean('must be a boolean').optional(),
    timeoutMs: z
      .custom<number>(
        (value) => typeof value === 'number' && isTimeout(value),
        `must be a number > 0 and <= ${maxTimeoutMs}`,
      )
      .optional(),
    tags: z
      .custom<readonly string[]>(
        (value) => Array.isArray(value) && value.every((tag) => typeof tag === 'string'),
        'must be an array of strings',
      )
      .optional(),
    probes: z
      .custom<readonly HealthProbe[]>(
        (value) =>
          Array.isArray(value) && value.length > 0 && value.every((probe) => healthProbeSet.has(probe)),
        `must be a non-empty array of ${healthProbes.join(', ')}`,
      )
      .optional(),
  });
}

const healthStatuses: ReadonlySet<unknown> = new Set<HealthStatus>(['up', 'degraded', 'down']);

function isHealthResult(value: unknown): value is HealthResult {
  return isRecord(value) && healthStatuses.has(value['status']);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isDuration(value: number, min: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= min;
}

function isTimeout(value: number): boolean {
  return isDuration(value, 0) && value > 0 && value <= maxTimeoutMs;
}

function errorMessage(error: unknown): string {
  if (typeof error === 'string' && error.length > 0) return error;
  if (isRecord(error) && typeof error['message'] === 'string' && error['message'].length > 0) {
    return error['message'];
  }
  return 'check failed';
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
