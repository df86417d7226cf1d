// The example service's application: routes over whatever infrastructure it is given, so that
// its tests can hand it createTestInfrastructure() and production hands it createInfrastructure().
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isInfraError, type Infrastructure } from '../src/index.ts';

export interface GreetingApp {
  /** Answers /greet/:name, /greeted/:name and /stats/:name; false for any other request. */
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

  // A point per greeting; a time already used is moved on by 1 ms, since a point written again
  // with the same series, tags and time replaces the first.
  let lastTime = 0;
  const recordGreeting = (name: string): Promise<void> => {
    lastTime = Math.max(Date.now(), lastTime + 1);
    return infra.timeSeries.write({
      series: 'greetings',
      tags: { name },
      time: lastTime,
      fields: { count: 1 },
    });
  };
  const perMinute = async (name: string): Promise<{ start: string; count: number }[]> => {
    const to = Date.now() + 1;
    const windows = await infra.timeSeries.aggregate(
      { series: 'greetings', tags: { name }, from: to - 3_600_000, to },
      { step: 60_000, functions: ['count'] },
    );
    return windows.map((window) => ({
      start: new Date(window.start).toISOString(),
      count: window.values.count?.count ?? 0,
    }));
  };

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
      const stats = /^\/stats\/([\w-]{1,64})$/.exec(url.pathname);
      if (req.method === 'GET' && stats) {
        perMinute(stats[1]!).then(
          (minutes) => json(res, 200, JSON.stringify({ name: stats[1], perMinute: minutes })),
          (error: unknown) => {
            log.warn({ err: error }, 'stats failed');
            json(res, 503, '{"error":"unavailable"}');
          },
        );
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
          await recordGreeting(name);
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
