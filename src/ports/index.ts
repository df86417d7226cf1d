export * from './component.ts';
export * from './errors.ts';
export * from './cache.ts';
export * from './redacted.ts';
