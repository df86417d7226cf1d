import { createMemoryExecutor } from '../../src/adapters/memory/index.ts';
import { executorConformance, executorConformanceScript } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';

executorConformance({
  name: 'memory',
  create: (options) =>
    createMemoryExecutor({ ...options, script: executorConformanceScript() }, silentRuntime()),
  features: { realProcesses: false },
});
