export * from './health-checker.ts';
export * from './http-handler.ts';
