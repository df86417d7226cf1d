export { createProcessExecutor } from './executor.ts';
export { classifyProcessError } from './errors.ts';
export type { ProcessExecutorOptions } from './options.ts';
