export * from './ports/index.ts';
export * from './runtime/index.ts';
export * from './health/index.ts';
export * from './config/options.ts';
export * from './config/index.ts';
