// Polling until a condition holds, for tests that watch something settle (a server restarted, a
// message handled): one loop, so every test fails the same way and says what it waited for.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Pause between two checks; in-memory conditions poll faster than ones that ask a server. */
  readonly everyMs?: number;
  /** A check that rejects counts as not yet (a client still reconnecting), instead of failing. */
  readonly ignoreErrors?: boolean;
  /** What was last seen, added to the failure so it says why the condition did not hold. */
  readonly saw?: () => string;
}

/** Polls `check` until it holds; resolves the time it took, fails the test past `withinMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  withinMs: number,
  options: WaitOptions = {},
): Promise<number> {
  const { everyMs = 100, ignoreErrors = false, saw } = options;
  const started = performance.now();
  for (;;) {
    const done = ignoreErrors
      ? await Promise.resolve()
          .then(check)
          .catch(() => false)
      : await check();
    if (done) return performance.now() - started;
    if (performance.now() - started > withinMs)
      assert.fail(`${what}: not within ${withinMs} ms${saw === undefined ? '' : `; ${saw()}`}`);
    await sleep(everyMs);
  }
}
