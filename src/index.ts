export * from './ports/index.ts';
export * from './runtime/index.ts';
export * from './health/index.ts';
export * from './options/index.ts';
export * from './composition/index.ts';
