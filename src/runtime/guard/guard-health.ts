import type { HealthResult } from '../../ports/component.ts';
import type { InfraError } from '../../ports/errors.ts';

/** An adapter's probe bounded by the health deadline (and the caller's signal); never throws. */
export async function probeWithin(
  probe: (signal: AbortSignal) => Promise<HealthResult>,
  signal: AbortSignal | undefined,
  timeoutMs: number,
  toInfraError: (error: unknown) => InfraError,
): Promise<HealthResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    return await Promise.race([probe(combined), abortedAsDown(combined, timeoutMs)]);
  } catch (error) {
    return { status: 'down', error: toInfraError(error).message };
  }
}

function abortedAsDown(signal: AbortSignal, timeoutMs: number): Promise<HealthResult> {
  return new Promise((resolve) => {
    const onAbort = (): void =>
      resolve({ status: 'down', error: `health check timed out after ${timeoutMs} ms` });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
