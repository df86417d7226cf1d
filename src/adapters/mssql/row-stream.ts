import type mssql from 'mssql';
import type { OperationContext } from '../../ports/component.ts';
import type { SqlCursor, SqlRow } from '../../ports/sql-database.ts';
import { rowConverter } from './values.ts';

type Request = InstanceType<typeof mssql.Request>;

/**
 * Rows of a streaming request, handed out `count` at a time. The request pauses (tedious stops
 * reading the socket, so the server waits) once this many rows wait for the reader.
 */
const highWater = 10_000;

export function openRowStream(request: Request, text: string): SqlCursor {
  const buffered: SqlRow[] = [];
  let convert = rowConverter(undefined);
  let finished = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  request.stream = true;
  request.on('recordset', (columns: Record<string, { type?: unknown }>) => {
    convert = rowConverter(columns);
  });
  request.on('row', (row: SqlRow) => {
    buffered.push(convert(row));
    if (buffered.length >= highWater) request.pause();
    notify();
  });
  request.on('error', (error: unknown) => {
    failure ??= error;
    notify();
  });
  request.on('done', () => {
    finished = true;
    notify();
  });
  void request.query(text);

  return {
    async next(count: number, ctx: OperationContext): Promise<SqlRow[]> {
      while (buffered.length < count && !finished && failure === undefined) {
        request.resume();
        await new Promise<void>((resolve, reject) => {
          const onAbort = (): void => reject(ctx.signal.reason as Error);
          if (ctx.signal.aborted) return onAbort();
          ctx.signal.addEventListener('abort', onAbort, { once: true });
          wake = () => {
            ctx.signal.removeEventListener('abort', onAbort);
            resolve();
          };
        });
      }
      if (failure !== undefined) throw failure as Error;
      return buffered.splice(0, count);
    },
    close(): Promise<void> {
      // A reader that stops early leaves the statement running: cancel it on the server.
      if (!finished && failure === undefined) request.cancel();
      buffered.length = 0;
      return Promise.resolve();
    },
  };
}
