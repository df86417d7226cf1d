export * from './component.ts';
export * from './errors.ts';
export * from './cache.ts';
export * from './redacted.ts';
export * from './broker.ts';
export type { StandardSchemaV1 } from './standard-schema.ts';
export * from './executor.ts';
export * from './llm-client.ts';
export * from './document-store.ts';
