import { halfJitterGenerator, noJitterGenerator, type GeneratorFn } from 'cockatiel';

/** Delays that double from `initialDelayMs` up to `maxDelayMs`. */
export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** `half` picks from the upper half of each delay, so peers that failed together spread out. */
  jitter: 'none' | 'half';
}

const generators: Record<BackoffPolicy['jitter'], GeneratorFn<number>> = {
  none: noJitterGenerator,
  half: halfJitterGenerator,
};

/**
 * The delay before retry `retry`, counted from 0. Indexed rather than chained like cockatiel's
 * `ExponentialBackoff` because a caller's count can go down again (restarts within a window).
 */
export function backoffDelayMs(policy: BackoffPolicy, retry: number): number {
  const generator = generators[policy.jitter];
  const [delayMs] = generator(retry, {
    generator,
    initialDelay: policy.initialDelayMs,
    maxDelay: policy.maxDelayMs,
    exponent: 2,
  });
  return delayMs;
}
