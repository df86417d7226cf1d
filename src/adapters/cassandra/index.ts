export { createCassandraTimeSeries, type CassandraTimeSeries } from './time-series.ts';
export { classifyCassandraError } from './errors.ts';
export type { CassandraConsistency, CassandraTimeSeriesOptions } from './options.ts';
