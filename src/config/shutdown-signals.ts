import { constants } from 'node:os';
import type { Logger } from 'pino';

export interface ShutdownSignalOptions {
  /** Default SIGTERM and SIGINT. */
  signals?: readonly NodeJS.Signals[];
  logger?: Logger;
  /** Default `process.exit`; a test may pass its own. */
  exit?: (code: number) => void;
}

/**
 * Maps SIGTERM/SIGINT onto a graceful close for a service: the first signal closes (readiness
 * down, drain, components closed in reverse order) and exits 0, or 1 if the close failed or
 * ran out of time; a second signal exits at once with 128 + its number, as a shell reports a
 * process killed by it. Returns a function that removes the handlers.
 */
export function handleShutdownSignals(
  target: { close(): Promise<void> },
  options: ShutdownSignalOptions = {},
): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      options.logger?.warn({ signal }, 'second signal: exiting without waiting for the close');
      exit(128 + (constants.signals[signal] ?? 0));
      return;
    }
    closing = true;
    options.logger?.info({ signal }, 'signal: closing');
    target.close().then(
      () => exit(0),
      (error: unknown) => {
        options.logger?.error({ err: error }, 'close did not finish cleanly');
        exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
