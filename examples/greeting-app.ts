// The example service's application: routes over whatever infrastructure it is given, so that
// its tests can hand it createTestInfrastructure() and production hands it createInfrastructure().
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import {
  createInbox,
  createOutbox,
  createOutboxRelay,
  isInfraError,
  sql,
  type Infrastructure,
  type Migration,
} from '../src/index.ts';

export interface GreetingApp {
  /** Answers /greet/:name, /greeted/:name and /stats/:name; false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/** The app's tables: one text per dialect, so SQL_DRIVER may be embedded, postgres or mssql. */
export const greetingMigrations: readonly Migration[] = [
  {
    id: '001_greeting_counts',
    sql: {
      postgres: 'CREATE TABLE greeting_counts (name text PRIMARY KEY, count bigint NOT NULL)',
      mssql: 'CREATE TABLE greeting_counts (name nvarchar(64) PRIMARY KEY, count bigint NOT NULL)',
    },
  },
];

export function createGreetingApp(infra: Infrastructure, log: Logger): GreetingApp {
  // The `greeted` event is written in a transaction (the outbox) and published by the relay;
  // the count is applied once per event, whatever the broker delivers again (the inbox).
  const outbox = createOutbox({ sql: infra.sql, runtime: infra.runtime });
  const inbox = createInbox({ sql: infra.sql, runtime: infra.runtime });
  const relay = createOutboxRelay({ outbox, broker: infra.broker, runtime: infra.runtime });

  // Applied once before the first count, whatever runs first; a failed attempt is tried again.
  let migrated: Promise<unknown> | undefined;
  const schema = (): Promise<unknown> =>
    (migrated ??= infra.sql
      .migrate([...greetingMigrations, ...outbox.migrations, ...inbox.migrations])
      .catch((error: unknown) => {
        migrated = undefined;
        throw error;
      }));
  // The relay needs its tables: started after them, by the infrastructure's start or the first greeting.
  const relayStarted = (): Promise<void> => schema().then(() => relay.start());
  infra.register({
    id: relay.id,
    start: relayStarted,
    health: (signal) => relay.health(signal),
    close: () => relay.close(),
  });

  const countGreeting = inbox.handler<{ name: string }>('example-greeting-counter', async (message, tx) => {
    const { name } = message.value;
    const updated = await tx.execute(sql`UPDATE greeting_counts SET count = count + 1 WHERE name = ${name}`);
    if (updated === 0)
      await tx.execute(sql`INSERT INTO greeting_counts (name, count) VALUES (${name}, ${1})`);
  });

  // Counted from the events, not the requests: what a downstream service of the broker would see.
  // Events of one name arrive in order (keyed by name), so update-else-insert cannot race itself.
  infra.broker.subscribe<{ name: string }>(
    'greeted',
    async (message, signal) => {
      await schema();
      await countGreeting(message, signal);
    },
    { group: 'example-greeting-counter', fromBeginning: true },
  );
  const greetedCount = async (name: string): Promise<number> => {
    await schema();
    const [row] = await infra.sql.query<{ count: bigint }>(
      sql`SELECT count FROM greeting_counts WHERE name = ${name}`,
    );
    return Number(row?.count ?? 0);
  };

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
        greetedCount(counted[1]!).then(
          (count) => json(res, 200, JSON.stringify({ name: counted[1], count })),
          (error: unknown) => {
            log.warn({ err: error }, 'count failed');
            json(res, 503, '{"error":"unavailable"}');
          },
        );
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
          await relayStarted();
          await outbox.transaction((tx) => tx.publish('greeted', { key: name, value: { name } }));
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
