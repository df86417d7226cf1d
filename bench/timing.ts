// What every bench times with: a collected heap before each timed run, medians of rounds.

/** Runs a full collection when node runs with --expose-gc, so no run pays for the one before. */
export const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

export const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Milliseconds to run `op(from)` … `op(from + count - 1)` with `workers` calls in flight. */
export async function timed(
  from: number,
  count: number,
  workers: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = from;
  const end = from + count;
  collectGarbage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < end) await op(next++);
    }),
  );
  return performance.now() - started;
}
