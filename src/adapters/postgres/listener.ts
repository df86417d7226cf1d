import type { Logger } from 'pino';
import type pg from 'pg';
import type { OperationContext } from '../../ports/component.ts';
import type { SqlListener } from '../../ports/sql-database.ts';

const maxBackoffMs = 5_000;

/**
 * LISTEN on a connection of its own (never a pooled one: it is held for good). When it breaks,
 * it connects and listens again, backing off from 100 ms to 5 s; notifications sent meanwhile
 * are lost, which a listener must tolerate (the outbox relay still polls).
 */
export async function listenOn(
  connect: () => pg.Client,
  channel: string,
  onNotify: (payload: string) => void,
  ctx: OperationContext,
  logger: Logger,
): Promise<SqlListener> {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;

  const open = async (): Promise<void> => {
    const next = connect();
    client = next;
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify(message.payload ?? '');
    });
    // Heard, or a broken connection would crash the process; then listen again.
    next.on('error', (error) => {
      logger.debug({ err: error, channel }, 'LISTEN connection failed');
      again(next);
    });
    next.on('end', () => again(next));
    await next.connect();
    // An identifier checked by the port: letters, digits and _.
    await next.query(`LISTEN "${channel}"`);
    failures = 0;
  };

  const again = (broken: pg.Client): void => {
    if (closed || client !== broken || retry !== undefined) return;
    client = undefined;
    broken.end().catch(() => undefined);
    const delayMs = Math.min(maxBackoffMs, 100 * 2 ** failures++);
    retry = setTimeout(() => {
      retry = undefined;
      if (closed) return;
      open().catch((error: unknown) => {
        logger.debug({ err: error, channel }, 'LISTEN again failed');
        if (client !== undefined) again(client);
      });
    }, delayMs);
    retry.unref();
  };

  const first = open();
  const aborted = new Promise<never>((_, reject) => {
    if (ctx.signal.aborted) reject(ctx.signal.reason as Error);
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
  });
  try {
    await Promise.race([first, aborted]);
  } catch (error) {
    closed = true;
    await client?.end().catch(() => undefined);
    throw error;
  }
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      const last = client;
      client = undefined;
      await last?.end().catch(() => undefined);
    },
  };
}
