export * from './types.ts';
export * from './health-checker.ts';
export * from './http-handler.ts';
export {
  renderHealthPage,
  type HealthPageOptions,
  type HealthPageRenderOptions,
  type VisibleHealthReport,
} from './health-page.ts';
