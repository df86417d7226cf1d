export { parseInput, parseOptions } from './validate.ts';
export * from './schemas.ts';
export {
  executorOptionsSchema,
  processExecutorOptionsSchema,
  type ExecutorOptions,
  type ProcessExecutorOptions,
} from './executor-schemas.ts';
export * from './llm-schemas.ts';
export * from './document-store-schemas.ts';
export * from './secret-store-schemas.ts';
export * from './time-series-schemas.ts';
export * from './sql-schemas.ts';
