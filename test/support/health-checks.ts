import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthResult } from '../../src/ports/component.ts';
import type { HealthCheckFunction } from '../../src/health/index.ts';

/** A check that counts its runs and answers `result`. */
export function countedCheck(result?: HealthResult): HealthCheckFunction & { calls: number } {
  const check = Object.assign(
    async () => {
      check.calls += 1;
      await sleep(5);
      return result;
    },
    { calls: 0 },
  );
  return check;
}
