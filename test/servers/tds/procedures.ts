// The stored procedures of the emulated subset: sp_getapplock and sp_releaseapplock, with SQL
// Server's return codes (0 granted, 1 granted after waiting, -1 timed out, -999 bad call).
// Application locks live per database, owned by the session or by its transaction.
import { sqlErrors } from './errors.ts';
import type { LockMode } from './locks.ts';
import { Cancelled, type RunContext } from './session-state.ts';
import type { StoredValue } from './types.ts';

export interface Argument {
  /** '@resource', lower-case, or undefined for a positional argument. */
  readonly name: string | undefined;
  readonly value: StoredValue;
}

const GET_PARAMETERS = ['@resource', '@lockmode', '@lockowner', '@locktimeout', '@dbprincipal'];
const RELEASE_PARAMETERS = ['@resource', '@lockowner', '@dbprincipal'];
const SHARED_MODES = new Set(['shared', 'intentshared']);
const MODES = new Set(['shared', 'update', 'intentshared', 'intentexclusive', 'exclusive']);

function bind(
  args: readonly Argument[],
  names: readonly string[],
  procedure: string,
): Map<string, StoredValue> {
  const bound = new Map<string, StoredValue>();
  args.forEach((arg, index) => {
    const name = arg.name?.toLowerCase() ?? names[index];
    if (!name || !names.includes(name)) {
      throw sqlErrors.internal(`${procedure} has no parameter ${arg.name ?? `#${index + 1}`}`);
    }
    bound.set(name, arg.value);
  });
  return bound;
}

const text = (value: StoredValue | undefined): string | undefined =>
  value === null || value === undefined ? undefined : value instanceof Uint8Array ? undefined : String(value);

/** Runs a procedure; resolves its return status. */
export async function runProcedure(
  procedure: string,
  args: readonly Argument[],
  ctx: RunContext,
): Promise<number> {
  const name = procedure.toLowerCase().replace(/^(?:\w+\.)?(?:dbo|sys)\./, '');
  if (name === 'sp_getapplock') return getAppLock(bind(args, GET_PARAMETERS, name), ctx);
  if (name === 'sp_releaseapplock') return releaseAppLock(bind(args, RELEASE_PARAMETERS, name), ctx);
  throw sqlErrors.unknownProcedure(procedure);
}

function owner(bound: Map<string, StoredValue>, ctx: RunContext): object | undefined {
  const kind = (text(bound.get('@lockowner')) ?? 'Transaction').toLowerCase();
  if (kind === 'session') return ctx.state;
  if (kind !== 'transaction') return undefined;
  if (!ctx.state.transaction) throw sqlErrors.applockNeedsTransaction();
  return ctx.state.transaction;
}

const resourceKey = (ctx: RunContext, resource: string): string =>
  `applock:${ctx.state.database.name.toLowerCase()}:${resource.slice(0, 255)}`;

async function getAppLock(bound: Map<string, StoredValue>, ctx: RunContext): Promise<number> {
  const resource = text(bound.get('@resource'));
  const mode = text(bound.get('@lockmode'))?.toLowerCase();
  const holder = owner(bound, ctx);
  if (!resource || !mode || !MODES.has(mode) || !holder) return -999;
  const timeoutValue = bound.get('@locktimeout');
  const timeoutMs =
    timeoutValue === undefined || timeoutValue === null ? ctx.state.lockTimeoutMs : Number(timeoutValue);
  const lockMode: LockMode = SHARED_MODES.has(mode) ? 'shared' : 'exclusive';
  const result = await ctx.state.engine.locks.acquire(
    resourceKey(ctx, resource),
    holder,
    lockMode,
    timeoutMs < 0 ? -1 : timeoutMs,
    ctx.signal,
  );
  switch (result) {
    case 'granted':
      return 0;
    case 'waited':
      return 1;
    case 'timeout':
      return -1;
    case 'cancelled':
      throw new Cancelled();
  }
}

function releaseAppLock(bound: Map<string, StoredValue>, ctx: RunContext): number {
  const resource = text(bound.get('@resource'));
  const holder = owner(bound, ctx);
  if (!resource || !holder) return -999;
  if (!ctx.state.engine.locks.release(resourceKey(ctx, resource), holder))
    throw sqlErrors.applockNotHeld(resource);
  return 0;
}
