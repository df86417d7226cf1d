// The health checker's public shapes, apart from the checker, so the check runner and the probe
// handlers need not import the checker (nor it them).
import type { Component, HealthResult, HealthStatus } from '../ports/component.ts';

export type HealthProbe = 'liveness' | 'readiness' | 'startup';

export const healthProbes: readonly HealthProbe[] = ['liveness', 'readiness', 'startup'];

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
