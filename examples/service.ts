// A small service on berth: a cached greeting endpoint that publishes a `greeted` event, a
// subscription counting those events in SQL, health probes and /metrics. Memory adapters (and
// PostgreSQL in process for SQL) by default; SQL_DRIVER=postgres POSTGRES_URL=postgres://… and
// CACHE_DRIVER=redis REDIS_URL=redis://… and BROKER_DRIVER=kafka KAFKA_BROKERS=host:port switch.
// PORT (default 3000), LOG_LEVEL and HEALTH_DETAILS=true are its own settings.
import { createServer } from 'node:http';
import type { Logger } from 'pino';
import { collectDefaultMetrics } from 'prom-client';
import {
  ConfigError,
  createHealthHandler,
  createInfrastructure,
  createLogger,
  createRuntime,
  handleShutdownSignals,
  loadConfig,
  type ConfigIssue,
  type InfrastructureConfig,
} from '../src/index.ts';
import { createGreetingApp } from './greeting-app.ts';

// Every bad setting is collected, the service's own and the adapters' alike, and reported at
// once in one log line: fixing them one start at a time is slow.
const issues: ConfigIssue[] = [];
const collect = (error: unknown): void => {
  if (!(error instanceof ConfigError)) throw error;
  issues.push(...error.issues);
};

let logger: Logger;
try {
  logger = createLogger();
} catch (error) {
  collect(error);
  logger = createLogger({ level: 'info' });
}
const port = portFrom(process.env.PORT);
const exposeDetails = booleanFrom('HEALTH_DETAILS', process.env.HEALTH_DETAILS);

const runtime = createRuntime({ logger });
const log = runtime.logger.child({ component: 'example-service' });
collectDefaultMetrics({ register: runtime.registry });

let config: InfrastructureConfig = {};
try {
  // The ports this service uses run on memory unless their variables choose a backend.
  config = await loadConfig(process.env, {
    runtime,
    memoryDefaults: ['cache', 'broker', 'documents', 'timeSeries', 'sql'],
  });
} catch (error) {
  collect(error);
}
if (issues.length > 0) stop(new ConfigError('configuration from the environment', issues));

// A driver whose SDK is not installed is a ConfigError here, reported the same way.
const infra = await createInfrastructure(config, runtime).catch((error: unknown) => stop(error));
const app = createGreetingApp(infra, log);
const probes = createHealthHandler(infra.health, {
  registry: runtime.registry,
  exposeDetails,
  // A browser opening /healthz gets a page that refreshes itself; curl and probes still get JSON.
  page: { title: 'Example service health' },
});

const server = createServer((req, res) => {
  if (probes(req, res) || app.handle(req, res)) return;
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
});

// Started before listening: nothing is answered while the adapters get ready (PGlite loads its
// WebAssembly, the document store builds its indexes, migrations run).
await infra.start();
// The HTTP server joins the lifecycle after the start, which would find it not yet listening:
// closed first on shutdown, after readiness went down.
infra.register({
  id: 'http-server',
  health: () => Promise.resolve({ status: server.listening ? 'up' : 'down' }),
  close: () => {
    server.closeIdleConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  },
});
server.listen(port, '127.0.0.1', () => {
  log.info(
    { address: `http://127.0.0.1:${port}`, cache: config.cache?.driver, broker: config.broker?.driver },
    'listening: /greet/:name /greeted/:name /stats/:name /livez /readyz /healthz /metrics',
  );
});

handleShutdownSignals(infra, { logger: log });
closeWhenOrphaned();

/** PORT as a TCP port, 3000 when unset; a bad one joins the issues (Node would throw ERR_SOCKET_BAD_PORT). */
function portFrom(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 3000;
  const value = Number(raw);
  if (/^\d+$/.test(raw) && value >= 1 && value <= 65_535) return value;
  issues.push({ path: 'PORT', message: 'must be a TCP port, a whole number from 1 to 65535' });
  return 3000;
}

function booleanFrom(variable: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  issues.push({ path: variable, message: 'must be true or false' });
  return false;
}

/** One log line for a configuration error (its message names every variable), then exit 1. */
function stop(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  logger.fatal({ err: error }, 'invalid configuration');
  process.exit(1);
}

/**
 * Under `npm start` the service runs in `sh -c`, below npm: a SIGTERM to npm's PID reaches the
 * shell, which dies without passing it on, and the service would keep its port. So a service
 * that npm started closes as on SIGTERM once its parent is gone. Run directly (`node
 * examples/service.ts`, a container's command), it watches nothing: signals reach it.
 */
function closeWhenOrphaned(): void {
  if (process.env.npm_lifecycle_event === undefined) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    log.info({ parent }, 'npm, the parent process, is gone: closing');
    process.kill(process.pid, 'SIGTERM');
  }, 500);
  timer.unref();
}
