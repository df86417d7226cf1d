import { createMemoryTimeSeries } from '../../src/adapters/memory/index.ts';
import { timeSeriesConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';

timeSeriesConformance({
  name: 'memory',
  create: (_namespace, retention) => createMemoryTimeSeries({ ...retention }, silentRuntime()),
  features: { shared: false, ttlResolutionMs: 1 },
});
