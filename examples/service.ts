// A small service on berth: a cached greeting endpoint that publishes a `greeted` event, a
// subscription counting those events, health probes and /metrics. Memory adapters by default;
// CACHE_DRIVER=redis REDIS_URL=redis://… and BROKER_DRIVER=kafka KAFKA_BROKERS=host:port switch.
import { createServer } from 'node:http';
import { collectDefaultMetrics } from 'prom-client';
import {
  createHealthHandler,
  createInfrastructure,
  createRuntime,
  isInfraError,
  loadConfig,
} from '../src/index.ts';

const runtime = createRuntime();
const log = runtime.logger.child({ component: 'example-service' });
collectDefaultMetrics({ register: runtime.registry });

let config;
try {
  config = await loadConfig(process.env);
} catch (error) {
  log.fatal({ err: error }, 'invalid configuration');
  process.exit(1);
}

const infra = await createInfrastructure(config, runtime);
// Counted from the events, not the requests: what a downstream service of the broker would see.
const greeted = new Map<string, number>();
infra.broker.subscribe<{ name: string }>(
  'greeted',
  (message) => {
    greeted.set(message.value.name, (greeted.get(message.value.name) ?? 0) + 1);
    return Promise.resolve();
  },
  { group: 'example-greeting-counter', fromBeginning: true },
);

const probes = createHealthHandler(infra.health, {
  registry: runtime.registry,
  exposeDetails: process.env.HEALTH_DETAILS === 'true',
});

const server = createServer((req, res) => {
  if (probes(req, res)) return;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const counted = /^\/greeted\/([\w-]{1,64})$/.exec(url.pathname);
  if (req.method === 'GET' && counted) {
    const body = JSON.stringify({ name: counted[1], count: greeted.get(counted[1]!) ?? 0 });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    return;
  }
  const match = /^\/greet\/([\w-]{1,64})$/.exec(url.pathname);
  if (req.method !== 'GET' || !match) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    return;
  }
  const name = match[1]!;
  const greet = (): Promise<{ greeting: string; at: string }> =>
    Promise.resolve({ greeting: `Hello, ${name}!`, at: new Date().toISOString() });
  infra.cache
    .getOrSet(`greeting:${name}`, greet, { ttlMs: 30_000 })
    .then(async (body) => {
      // Keyed by name: one person's greetings are counted in order.
      await infra.broker.publish('greeted', { key: name, value: { name } });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    })
    .catch((error: unknown) => {
      log.warn({ err: error }, 'greeting failed');
      const status = isInfraError(error) && error.reason === 'validation' ? 400 : 503;
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"unavailable"}');
    });
});

const port = Number(process.env.PORT ?? 3000);
server.listen(port, '127.0.0.1', () => {
  log.info(
    { address: `http://127.0.0.1:${port}`, cache: config.cache.driver, broker: config.broker.driver },
    'listening: /greet/:name /greeted/:name /livez /readyz /healthz /metrics',
  );
});
await infra.start();

const shutdown = (signal: string): void => {
  log.info({ signal }, 'stopping');
  void infra.close().then(() => server.close(() => process.exit(0)));
  server.closeIdleConnections();
};
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
