import * as nodeTest from 'node:test';

/** The slice of a test runner a conformance suite needs; node:test and vitest both fit. */
export interface TestApi {
  describe: (name: string, fn: () => void) => unknown;
  it: (name: string, fn: () => Promise<void>) => unknown;
}

export const nodeTestApi: TestApi = { describe: nodeTest.describe, it: nodeTest.it };
