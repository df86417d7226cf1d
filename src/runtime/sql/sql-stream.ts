import type { SqlAdapter, SqlCursor, SqlOperation, StreamOptions } from '../../ports/sql-database.ts';
import type { SqlInput } from '../../ports/sql.ts';
import type { Guard } from '../guard/guard.ts';
import type { ConnectionSlots } from './connection-slots.ts';
import { renderStatement } from './statement-rendering.ts';

const ignore = (): void => undefined;
const defaultBatchSize = 1_000;
const maxBatchSize = 10_000;

/** What a stream needs of the port around it. */
export interface StreamHost {
  readonly guard: Guard<SqlOperation>;
  readonly adapter: SqlAdapter;
  readonly slots: ConnectionSlots;
}

/**
 * Rows of one statement batch by batch on a connection held until the stream ends: a deadline
 * per batch, not for the whole stream. A consumer that stops early has the cursor end the statement.
 */
export async function* streamRows<Row extends object>(
  host: StreamHost,
  statement: SqlInput,
  opts: StreamOptions = {},
): AsyncGenerator<Row, void, undefined> {
  const { guard, adapter } = host;
  const rendered = renderStatement(guard, adapter.dialect, 'stream', statement);
  const batchSize = opts.batchSize ?? defaultBatchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > maxBatchSize) {
    throw guard.invalid('stream', 'batchSize', `expected a whole number from 1 to ${maxBatchSize}`);
  }
  const release = await host.slots.acquire('stream', opts.signal);
  let cursor: SqlCursor | undefined;
  let broken = true;
  try {
    let opening: Promise<SqlCursor> | undefined;
    const open = await guard
      .run('stream', opts, (ctx) => (opening = adapter.open(rendered, ctx)))
      .catch((error: unknown) => {
        opening?.then((late) => late.close(true), ignore);
        throw error;
      });
    cursor = open;
    for (;;) {
      const rows = await guard.run('stream', opts, (ctx) => open.next(batchSize, ctx));
      if (rows.length === 0) break;
      for (const row of rows) yield row as Row;
    }
    broken = false;
  } finally {
    await cursor?.close(broken && !guard.closed).catch((error: unknown) => {
      guard.logger.warn({ err: error }, 'closing a stream failed');
    });
    release();
  }
}
