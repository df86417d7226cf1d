import type { OperationContext } from '../../ports/component.ts';
import type { SqlAdapter, SqlCursor, SqlSession } from '../../ports/sql-database.ts';
import type { RenderedSql } from '../../ports/sql.ts';

const closeTimeoutMs = 5_000;

/**
 * Rows of a statement through a server-side cursor inside a read-committed transaction of its
 * own: each `next` is one `FETCH`, so only a batch is ever in memory, on the server's side as on
 * ours.
 */
export async function openDeclaredCursor(
  adapter: Pick<SqlAdapter, 'begin'>,
  statement: RenderedSql,
  ctx: OperationContext,
): Promise<SqlCursor> {
  const session = await adapter.begin('read committed', ctx);
  try {
    return await declareCursor(session, statement, ctx);
  } catch (error) {
    session.release(true);
    throw error;
  }
}

async function declareCursor(
  session: SqlSession,
  statement: RenderedSql,
  ctx: OperationContext,
): Promise<SqlCursor> {
  await session.query(
    { text: `DECLARE berth_stream NO SCROLL CURSOR FOR ${statement.text}`, values: statement.values },
    ctx,
  );
  let exhausted = false;
  let closed = false;
  return {
    async next(count, nextCtx) {
      if (exhausted) return [];
      const { rows } = await session.query(
        { text: `FETCH FORWARD ${count} FROM berth_stream`, values: [] },
        nextCtx,
      );
      if (rows.length < count) exhausted = true;
      return rows;
    },
    async close(broken) {
      if (closed) return;
      closed = true;
      if (broken) return session.release(true);
      // Read only: ending the transaction either way closes the cursor; rollback takes no lock.
      try {
        await session.rollback({ signal: AbortSignal.timeout(closeTimeoutMs) });
        session.release(false);
      } catch (error) {
        session.release(true);
        throw error;
      }
    },
  };
}
