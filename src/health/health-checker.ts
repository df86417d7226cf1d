import { z } from 'zod';
import type { Component } from '../ports/component.ts';
import { parseOptions } from '../runtime/options/validate.ts';
import { errorMessage, isRecord, reasonReport, runChecks, type RegisteredCheck } from './check-run.ts';
import {
  healthProbes,
  type HealthCheckOptions,
  type HealthCheckTarget,
  type HealthProbe,
  type HealthReport,
} from './types.ts';

const healthProbeSet: ReadonlySet<unknown> = new Set(healthProbes);

export interface HealthCheckerOptions {
  /**
   * How often a probe's checks run in the background once it has been asked for; probes answer
   * from the last report at once. Default 2000. 0 turns it off: every call runs the checks and
   * waits for them (concurrent calls share a run).
   */
  refreshIntervalMs?: number;
  /** @deprecated The former name of `refreshIntervalMs`, which wins when both are given. */
  cacheTtlMs?: number;
  /** Timeout of a check registered without one. Default 2000. */
  defaultTimeoutMs?: number;
  /** Clock telling a report's age, in milliseconds. Default `performance.now`. */
  now?: () => number;
}

/** How a probe method answers. */
export interface HealthProbeOptions {
  /** Run the checks now and wait for them, rather than answer from the last report. */
  fresh?: boolean;
}

/** `all` is every registered check, whatever its probes. */
type ProbeScope = HealthProbe | 'all';

// No state: never asked for, or its checks changed since. `madeAt` is undefined when the clock failed.
type ProbeState =
  | { kind: 'first-run'; run: Promise<HealthReport> }
  | {
      kind: 'known';
      report: HealthReport;
      madeAt: number | undefined;
      refresh: Promise<HealthReport> | undefined;
    };

const defaultRefreshIntervalMs = 2_000;

// setTimeout fires at once for larger delays.
const maxTimeoutMs = 2 ** 31 - 1;

// Strict, so a Runtime or a misspelt option passed here is refused instead of ignored.
const healthCheckerOptionsSchema = z.strictObject({
  refreshIntervalMs: z
    .number()
    .refine((value) => value === 0 || isTimeout(value), `must be 0 or a number > 0 and <= ${maxTimeoutMs}`)
    .optional(),
  cacheTtlMs: z.number().min(0, 'must be a finite number >= 0').optional(),
  defaultTimeoutMs: z
    .number()
    .refine((value) => isTimeout(value), `must be a number > 0 and <= ${maxTimeoutMs}`)
    .optional(),
  now: z.custom<() => number>((value) => typeof value === 'function', 'must be a function').optional(),
});

/**
 * Aggregates components and check functions into liveness, readiness and startup reports.
 * Checks run in parallel, each cut at its timeout. A probe answers from its last report at once
 * while its checks run again every `refreshIntervalMs` in the background (from its first call,
 * which waits for the first run), so a hung dependency never holds a probe request: it turns
 * down when its check times out. Concurrent callers share one run. The probe methods never throw.
 */
export class HealthChecker {
  readonly #refreshIntervalMs: number;
  readonly #defaultTimeoutMs: number;
  readonly #now: () => number;
  readonly #checks = new Map<string, RegisteredCheck>();
  readonly #states = new Map<ProbeScope, ProbeState>();
  readonly #timers = new Map<ProbeScope, NodeJS.Timeout>();
  #started = false;
  #shuttingDown = false;
  #closed = false;
  readonly #registration = {
    name: registrationSchema('name', (name) => this.#checks.has(name)),
    id: registrationSchema('id', (name) => this.#checks.has(name)),
  };

  constructor(options: HealthCheckerOptions = {}) {
    const parsed = parseOptions(healthCheckerOptionsSchema, options, 'health checker options');
    const interval = parsed.refreshIntervalMs ?? parsed.cacheTtlMs ?? defaultRefreshIntervalMs;
    this.#refreshIntervalMs = Math.min(interval, maxTimeoutMs);
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
  async liveness(options?: HealthProbeOptions): Promise<HealthReport> {
    return this.#answer('liveness', options);
  }

  /** Down at once, without running checks, after `beginShutdown()`. */
  async readiness(options?: HealthProbeOptions): Promise<HealthReport> {
    return this.#answer('readiness', options);
  }

  /** Down until `markStarted()`, then runs the checks registered for startup. */
  async startup(options?: HealthProbeOptions): Promise<HealthReport> {
    return this.#answer('startup', options);
  }

  /** Every registered check, whatever its probes, under readiness rules: what `/healthz` shows. */
  async report(options?: HealthProbeOptions): Promise<HealthReport> {
    return this.#answer('all', options);
  }

  markStarted(): void {
    this.#started = true;
  }

  /**
   * Readiness (and the full report) answer down from now on, so traffic drains before close.
   * Background refresh stops; a probe asked for later refreshes its report when it is older
   * than the interval.
   */
  beginShutdown(): void {
    this.#shuttingDown = true;
    this.#stopTimers();
  }

  /** Stops background refresh for good; probes still answer, as after `beginShutdown()`. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#stopTimers();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #answer(scope: ProbeScope, options: HealthProbeOptions | undefined): Promise<HealthReport> {
    try {
      const early = this.#answerWithoutChecks(scope);
      if (early !== undefined) return early;
      const report = await (options?.fresh === true ? this.#fresh(scope) : this.#latest(scope));
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

  /** The last report, at once; before there is one, the first run's. */
  #latest(scope: ProbeScope): HealthReport | Promise<HealthReport> {
    const state = this.#states.get(scope);
    if (state === undefined) return this.#refresh(scope);
    if (state.kind === 'first-run') return state.run;
    if (this.#refreshIntervalMs === 0 || state.madeAt === undefined)
      return state.refresh ?? this.#refresh(scope);
    // Covers a timer that is late or stopped (after beginShutdown): an old report starts a refresh.
    if (state.refresh === undefined && this.#isOld(state.madeAt)) void this.#refresh(scope);
    return state.report;
  }

  /** A report from a run that started after this call. */
  async #fresh(scope: ProbeScope): Promise<HealthReport> {
    const state = this.#states.get(scope);
    const running = state?.kind === 'first-run' ? state.run : state?.refresh;
    if (running !== undefined) await running;
    return this.#refresh(scope);
  }

  /** Runs the scope's checks, or joins the run under way; never rejects. */
  #refresh(scope: ProbeScope): Promise<HealthReport> {
    const state = this.#states.get(scope);
    if (state?.kind === 'first-run') return state.run;
    if (state?.refresh !== undefined) return state.refresh;
    clearTimeout(this.#timers.get(scope));
    this.#timers.delete(scope);
    const checks = [...this.#checks.values()].filter((c) => scope === 'all' || c.probes.has(scope));
    const run = runChecks(checks).catch((error: unknown) =>
      reasonReport(`health checker failed: ${errorMessage(error)}`),
    );
    this.#states.set(scope, state === undefined ? { kind: 'first-run', run } : { ...state, refresh: run });
    // Registered before the callers' continuations: they find the state already updated.
    void run.then((report) => this.#settle(scope, run, report));
    return run;
  }

  #settle(scope: ProbeScope, run: Promise<HealthReport>, report: HealthReport): void {
    const state = this.#states.get(scope);
    // A registration change during the run dropped the state: a report of the old checks is not kept.
    if (run !== (state?.kind === 'first-run' ? state.run : state?.refresh)) return;
    this.#states.set(scope, { kind: 'known', report, madeAt: this.#clock(), refresh: undefined });
    if (this.#refreshIntervalMs === 0 || this.#closed || this.#shuttingDown) return;
    const timer = setTimeout(() => {
      this.#timers.delete(scope);
      void this.#refresh(scope);
    }, this.#refreshIntervalMs);
    // A health checker never keeps a process alive that has nothing else to do.
    timer.unref();
    this.#timers.set(scope, timer);
  }

  #isOld(madeAt: number): boolean {
    const now = this.#clock();
    return now === undefined || now - madeAt >= this.#refreshIntervalMs;
  }

  #clock(): number | undefined {
    try {
      return this.#now();
    } catch {
      return undefined;
    }
  }

  #stopTimers(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #invalidate(probes: ReadonlySet<HealthProbe>): void {
    for (const probe of probes) this.#states.delete(probe);
    this.#states.delete('all');
  }
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

function isDuration(value: number, min: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= min;
}

function isTimeout(value: number): boolean {
  return isDuration(value, 0) && value > 0 && value <= maxTimeoutMs;
}
