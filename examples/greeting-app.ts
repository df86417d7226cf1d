// The example service's application: routes over whatever infrastructure it is given, so that
// its tests can hand it createTestInfrastructure() and production hands it createInfrastructure().
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isInfraError, type Infrastructure } from '../src/index.ts';

export interface GreetingApp {
  /** Answers /greet/:name and /greeted/:name; false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

export function createGreetingApp(infra: Infrastructure, log: Logger): GreetingApp {
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

  const json = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  };

  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const counted = /^\/greeted\/([\w-]{1,64})$/.exec(url.pathname);
      if (req.method === 'GET' && counted) {
        json(res, 200, JSON.stringify({ name: counted[1], count: greeted.get(counted[1]!) ?? 0 }));
        return true;
      }
      const match = /^\/greet\/([\w-]{1,64})$/.exec(url.pathname);
      if (req.method !== 'GET' || !match) return false;
      const name = match[1]!;
      const greet = (): Promise<{ greeting: string; at: string }> =>
        Promise.resolve({ greeting: `Hello, ${name}!`, at: new Date().toISOString() });
      infra.cache
        .getOrSet(`greeting:${name}`, greet, { ttlMs: 30_000 })
        .then(async (body) => {
          // Keyed by name: one person's greetings are counted in order.
          await infra.broker.publish('greeted', { key: name, value: { name } });
          json(res, 200, JSON.stringify(body));
        })
        .catch((error: unknown) => {
          log.warn({ err: error }, 'greeting failed');
          const status = isInfraError(error) && error.reason === 'validation' ? 400 : 503;
          json(res, status, '{"error":"unavailable"}');
        });
      return true;
    },
  };
}
