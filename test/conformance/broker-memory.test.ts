import { createMemoryBroker } from '../../src/adapters/memory/index.ts';
import { brokerConformance } from '../../src/testing/index.ts';
import { silentRuntime } from '../support/runtime.ts';

brokerConformance({ name: 'memory', create: () => createMemoryBroker({}, silentRuntime()) });
