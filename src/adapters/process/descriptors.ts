import { defineAdapter } from '../../runtime/adapter-descriptor.ts';
import { processExecutorOptionsSchema, type ProcessExecutorOptions } from './options.ts';

export const processExecutorAdapter = defineAdapter({
  port: 'executor',
  driver: 'process',
  options: processExecutorOptionsSchema,
  env: {
    EXECUTOR_CONCURRENCY: {
      option: 'concurrency',
      kind: 'integer',
      description: 'commands at once (default: CPUs)',
    },
    EXECUTOR_MAX_QUEUED: {
      option: 'maxQueued',
      kind: 'integer',
      description: 'commands waiting (default 256)',
    },
    EXECUTOR_INHERIT_ENV: {
      option: 'inheritEnv',
      kind: 'list',
      description: 'parent variables commands inherit',
    },
    EXECUTOR_FORWARD_SIGNALS: {
      option: 'forwardSignals',
      kind: 'boolean',
      description: 'pass SIGINT/SIGTERM/SIGHUP on',
    },
  },
  create: async (options, runtime) =>
    (await import('./executor.ts')).createProcessExecutor(options as ProcessExecutorOptions, runtime),
});
