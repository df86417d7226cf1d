import { createProcessExecutor } from '../../src/adapters/process/index.ts';
import { executorConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';

executorConformance({
  name: 'process',
  create: (options) => createProcessExecutor(options, silentRuntime()),
  features: { realProcesses: true },
});
