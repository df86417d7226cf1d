import type { Component } from '../ports/component.ts';
import { ConfigError, InfraError } from '../ports/errors.ts';
import {
  createAdapter,
  type AdapterDescriptor,
  type AdapterSource,
  type PortName,
  type PortTypes,
  type StartableComponent,
} from '../runtime/adapter-descriptor.ts';
import { defaultRuntime, type Runtime } from '../runtime/runtime.ts';
import { HealthChecker, type HealthCheckerOptions } from '../health/health-checker.ts';
import type { HealthCheckOptions, HealthCheckTarget } from '../health/types.ts';
import { AdapterRegistry } from './builtin-adapters.ts';
import { driverVariable, isConfigFromEnvironment } from './load-config.ts';
import { portNames, ports, type InfrastructureConfig } from './ports.ts';

export interface InfrastructureOptions {
  health?: HealthCheckerOptions;
  /** Adapters of the application's own or another package's, beside (or replacing) berth's. */
  adapters?: readonly AdapterDescriptor[];
  /** Ready-made adapters used as a port's `default` instance instead of building one; closed with the rest. */
  provided?: Partial<PortTypes>;
  /** Time between readiness turning down and the first component closing, for load balancers to notice. */
  shutdownDelayMs?: number;
  /** Bound on the whole of `close()`, the delay included. Default 30 s. */
  shutdownTimeoutMs?: number;
}

/** Each port's `default` instance (`infra.cache`); reading one that is not configured throws a ConfigError. */
export type DefaultInstances = { readonly [P in PortName]: PortTypes[P] };

/** The configured adapters, their health checks, and their lifecycle: the composition root. */
export interface Infrastructure extends DefaultInstances, AsyncDisposable {
  readonly runtime: Runtime;
  readonly health: HealthChecker;
  /** An instance by port and name (`default` unless given); throws a ConfigError if there is none. */
  get<P extends PortName>(port: P, name?: string): PortTypes[P];
  has(port: PortName, name?: string): boolean;
  /**
   * Adds an application's component to health and to the lifecycle: its `start` runs in
   * `start()`, it is closed in reverse order with the rest. A plain check function joins health only.
   */
  register(component: StartableComponent, options?: HealthCheckOptions): void;
  register(name: string, target: HealthCheckTarget, options?: HealthCheckOptions): void;
  /** Runs each component's `start` in order, waits for each first health report, then marks startup done. */
  start(signal?: AbortSignal): Promise<void>;
  /**
   * Readiness down, `shutdownDelayMs`, then components closed in reverse order (the broker
   * first: its subscriptions stop fetching and drain), all within `shutdownTimeoutMs`. Rejects,
   * after trying every component, if one failed or did not close in time. Idempotent.
   */
  close(): Promise<void>;
}

interface Entry {
  port: PortName | undefined;
  name: string;
  component: StartableComponent;
}

/**
 * Builds every configured port (typed config or `loadConfig`'s), in the port table's order.
 * A driver unknown, or one whose SDK (`descriptor.packages`) is not installed, is a ConfigError:
 * the latter names the variable (`BROKER_DRIVER`) for a config `loadConfig` returned, the port
 * and `driver` for typed config, and the `npm install` to run. What was built is closed first.
 */
export async function createInfrastructure(
  config: InfrastructureConfig,
  runtime: Runtime = defaultRuntime(),
  options: InfrastructureOptions = {},
): Promise<Infrastructure> {
  const registry = new AdapterRegistry(options.adapters);
  const health = new HealthChecker(options.health);
  const logger = runtime.logger.child({ component: 'infrastructure' });
  const entries: Entry[] = [];

  const add = (
    port: PortName | undefined,
    name: string,
    component: StartableComponent,
    check?: HealthCheckOptions,
  ) => {
    entries.push({ port, name, component });
    const portSpec = port === undefined ? undefined : ports[port];
    health.register(component.id, component, {
      critical: portSpec?.critical ?? true,
      tags: port === undefined ? [] : [port],
      probes: ['readiness', 'startup'],
      ...check,
    });
  };
  try {
    for (const port of portNames) {
      const provided = options.provided?.[port];
      const configs = Object.entries(config.instances?.[port] ?? {}) as [string, Record<string, unknown>][];
      if (provided !== undefined) add(port, 'default', provided);
      else if (config[port] !== undefined)
        configs.unshift(['default', config[port] as Record<string, unknown>]);
      for (const [name, { driver, ...adapterOptions }] of configs) {
        const descriptor = registry.find(port, String(driver));
        if (descriptor === undefined)
          throw new ConfigError(`${port} "${name}"`, [
            { path: 'driver', message: `must be one of ${registry.drivers(port).join(', ')}` },
          ]);
        const id = name === 'default' ? {} : { id: `${ports[port].idPrefix}:${name}` };
        // A driver whose SDK is not installed is named as the config named it: by variable or by port.
        const source: AdapterSource = isConfigFromEnvironment(config)
          ? { subject: 'configuration from the environment', path: driverVariable(port, name) }
          : { subject: `${port} "${name}"`, path: 'driver' };
        add(port, name, await createAdapter(descriptor, { ...id, ...adapterOptions }, runtime, source));
      }
    }
  } catch (error) {
    // What was built before the failure is closed, so a bad config leaks no connection.
    await Promise.allSettled(entries.map((entry) => entry.component.close()));
    throw error;
  }

  const find = (port: PortName, name: string): Entry | undefined =>
    entries.find((entry) => entry.port === port && entry.name === name);
  const get = <P extends PortName>(port: P, name = 'default'): PortTypes[P] => {
    const entry = find(port, name);
    if (entry === undefined)
      throw new ConfigError(`infrastructure`, [
        {
          path: name === 'default' ? port : `instances.${port}.${name}`,
          message: `is not configured (set ${ports[port].envPrefix}_DRIVER or pass it in the config)`,
        },
      ]);
    return entry.component as PortTypes[P];
  };

  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= closeAll(entries, health, logger, options.shutdownDelayMs ?? 0, shutdownTimeoutMs);
    return closing;
  };

  const infrastructure: Omit<Infrastructure, PortName> = {
    runtime,
    health,
    get,
    has: (port, name = 'default') => find(port, name) !== undefined,
    register(
      first: StartableComponent | string,
      second?: HealthCheckTarget | HealthCheckOptions,
      third?: HealthCheckOptions,
    ) {
      if (closing !== undefined)
        throw new InfraError('closed', 'the infrastructure is closing', { operation: 'register' });
      if (typeof first !== 'string') {
        add(undefined, first.id, first, second as HealthCheckOptions | undefined);
        return;
      }
      const target = second as HealthCheckTarget;
      // Something that can be closed joins the lifecycle; a bare check joins health only.
      if (typeof target !== 'function' && typeof (target as Partial<Component>).close === 'function')
        add(undefined, first, target as StartableComponent, third);
      else health.register(first, target, third);
    },
    async start(signal) {
      for (const { component } of entries) await component.start?.(signal === undefined ? {} : { signal });
      const results = await Promise.all(
        entries.map(async ({ component }) => [component.id, await component.health(signal)] as const),
      );
      for (const [id, result] of results) {
        if (result.status !== 'up')
          logger.warn({ id, status: result.status, error: result.error }, 'component not up at start');
      }
      health.markStarted();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  // One getter per port, from the port table: `infra.cache` is `infra.get('cache')`.
  for (const port of portNames)
    Object.defineProperty(infrastructure, port, { get: () => get(port), enumerable: true });
  return infrastructure as Infrastructure;
}

async function closeAll(
  entries: readonly Entry[],
  health: HealthChecker,
  logger: Runtime['logger'],
  delayMs: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  health.beginShutdown();
  logger.info('shutting down: readiness is down');
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, timeoutMs)));
  const failed: string[] = [];
  for (const { component } of [...entries].reverse()) {
    const outcome = await settleWithin(component.close(), deadline - Date.now());
    if (outcome === 'closed') continue;
    failed.push(component.id);
    logger.error({ id: component.id, outcome }, 'component did not close');
  }
  if (failed.length > 0)
    throw new InfraError('timeout', `not closed within the shutdown: ${failed.join(', ')}`, {
      operation: 'close',
    });
  logger.info('closed');
}

/** `closed`, `failed`, or `timed out`; a close still running past the deadline is left behind. */
async function settleWithin(closing: Promise<void>, ms: number): Promise<'closed' | 'failed' | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms), 'timed out');
  });
  try {
    return await Promise.race([
      closing.then(
        () => 'closed' as const,
        () => 'failed' as const,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
