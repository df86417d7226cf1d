// A small service on berth: a cached greeting endpoint that publishes a `greeted` event, a
// subscription counting those events in SQL, health probes and /metrics. Memory adapters (and
// PostgreSQL in process for SQL) by default; SQL_DRIVER=postgres POSTGRES_URL=postgres://… and
// CACHE_DRIVER=redis REDIS_URL=redis://… and BROKER_DRIVER=kafka KAFKA_BROKERS=host:port switch.
import { createServer } from 'node:http';
import { collectDefaultMetrics } from 'prom-client';
import {
  createHealthHandler,
  createInfrastructure,
  createRuntime,
  handleShutdownSignals,
  loadConfig,
} from '../src/index.ts';
import { createGreetingApp } from './greeting-app.ts';

const runtime = createRuntime();
const log = runtime.logger.child({ component: 'example-service' });
collectDefaultMetrics({ register: runtime.registry });

let config;
try {
  // The ports this service uses run on memory unless their variables choose a backend.
  config = await loadConfig(process.env, {
    memoryDefaults: ['cache', 'broker', 'documents', 'timeSeries', 'sql'],
  });
} catch (error) {
  log.fatal({ err: error }, 'invalid configuration');
  process.exit(1);
}

const infra = await createInfrastructure(config, runtime);
const app = createGreetingApp(infra, log);
const probes = createHealthHandler(infra.health, {
  registry: runtime.registry,
  exposeDetails: process.env.HEALTH_DETAILS === 'true',
  // A browser opening /healthz gets a page that refreshes itself; curl and probes still get JSON.
  page: { title: 'Example service health' },
});

const server = createServer((req, res) => {
  if (probes(req, res) || app.handle(req, res)) return;
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
});
// The HTTP server joins the lifecycle: closed first on shutdown, after readiness went down.
infra.register({
  id: 'http-server',
  health: () => Promise.resolve({ status: server.listening ? 'up' : 'down' }),
  close: () => {
    server.closeIdleConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  },
});

// Started before listening: nothing is answered while the adapters get ready (PGlite loads its
// WebAssembly, the document store builds its indexes, migrations run).
await infra.start();
const port = Number(process.env.PORT ?? 3000);
server.listen(port, '127.0.0.1', () => {
  log.info(
    { address: `http://127.0.0.1:${port}`, cache: config.cache?.driver, broker: config.broker?.driver },
    'listening: /greet/:name /greeted/:name /stats/:name /livez /readyz /healthz /metrics',
  );
});

handleShutdownSignals(infra, { logger: log });
