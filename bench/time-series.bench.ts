// The TimeSeries port on Cassandra vs raw cassandra-driver with prepared statements, interleaved in
// one process; the memory adapter's throughput alongside. Prints `ratio <name> <port/raw>` lines.
// `BENCH_ONLY=write|range|memory` runs one part; `BENCH_CASES=<substring>` only the write cases
// whose name holds it.
import { randomUUID } from 'node:crypto';
import { Client, policies, types } from 'cassandra-driver';
import { Registry } from 'prom-client';
import { createCassandraTimeSeries } from '../src/adapters/cassandra/index.ts';
import { timeSeriesStatements, ttlSeconds } from '../src/adapters/cassandra/schema.ts';
import { createMemoryTimeSeries } from '../src/adapters/memory/index.ts';
import type { Point, TimeSeries } from '../src/ports/index.ts';
import { createLogger, createRuntime } from '../src/runtime/index.ts';
import { ensureService } from '../test/servers/services.ts';
import { collectGarbage, median, timed } from './timing.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
// `write`, `range` or `memory` runs that part alone.
const only = process.env.BENCH_ONLY;
const onlyCases = process.env.BENCH_CASES;
// Writes per side per round, in slices that take turns (a fraction of a second each).
const writesPerRound = Number(process.env.BENCH_WRITES ?? 6_000);
const slices = 6;
// A multiple of the page size.
const rangePoints = Number(process.env.BENCH_RANGE_POINTS ?? 100_000);
// The port's default page; the raw side fetches as many rows per round trip.
const pageSize = Number(process.env.BENCH_PAGE_SIZE ?? 1_000);
const concurrency = 64;
const batchPoints = 100;
const batchConcurrency = 8;
const streams = 100;
const dayMs = 86_400_000;
const ttlMs = dayMs;

async function cassandraEnv(): Promise<{ contactPoints: string[]; localDataCenter: string }> {
  const env =
    process.env.CASSANDRA_CONTACT_POINTS === undefined
      ? await ensureService('cassandra')
      : (process.env as Record<string, string>);
  if (!env.CASSANDRA_CONTACT_POINTS || !env.CASSANDRA_LOCAL_DATACENTER)
    throw new Error('no CASSANDRA_CONTACT_POINTS / CASSANDRA_LOCAL_DATACENTER');
  return {
    contactPoints: env.CASSANDRA_CONTACT_POINTS.split(','),
    localDataCenter: env.CASSANDRA_LOCAL_DATACENTER,
  };
}

// Each timed slice starts on a collected heap, so no side pays for the garbage of the one before.
const silent = createRuntime({ logger: createLogger({ level: 'silent' }), registry: new Registry() });
const keyspace = `bench_ts_${randomUUID().slice(0, 8)}`;
// Every point in one day, so one bucket per stream.
const base = Math.floor(Date.now() / dayMs) * dayMs;
const fields = { value: 42.5, count: 3 };
const tagsOf = (i: number): Record<string, string> => ({ host: `h${i % streams}`, region: 'eu' });
// As the adapter keys a tag set: the JSON of its pairs in key order.
const tagKeyOf = (tags: Record<string, string>): string =>
  JSON.stringify(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : 1)));

async function benchCassandra(): Promise<void> {
  const { contactPoints, localDataCenter } = await cassandraEnv();
  const common = { contactPoints, localDataCenter, keyspace, consistency: 'localQuorum' as const };
  const port = createCassandraTimeSeries(
    { ...common, createSchema: { replication: { replicationFactor: 1 } } },
    silent,
  );
  // Same keyspace and tables; every point it writes gets the store's TTL, so its stream's bucket
  // and tag-set rows are written (with that TTL plus a slack) before the first point, then again
  // once per half slack (half an hour for a day's TTL: never within a run of the bench).
  const portTtl = createCassandraTimeSeries({ ...common, defaultTtlMs: ttlMs }, silent);
  // As the adapter configures its client: protocol v4, token-aware in the local data center.
  const raw = new Client({
    contactPoints,
    localDataCenter,
    protocolOptions: { maxVersion: types.protocolVersion.v4 },
    policies: {
      loadBalancing: new policies.loadBalancing.DefaultLoadBalancingPolicy({ localDc: localDataCenter }),
    },
  });
  const cql = timeSeriesStatements(keyspace);
  const options = { prepare: true, isIdempotent: true, consistency: types.consistencies.localQuorum };
  try {
    await port.latest('bench.none', {}); // connects and creates the schema
    await raw.connect();
    if (only === undefined || only === 'write') await benchWrite(port, portTtl, raw, cql, options);
    if (only === undefined || only === 'range') await benchRange(port, raw, cql, options);
  } finally {
    await raw.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch((error: unknown) => {
      console.error(`could not drop ${keyspace}:`, error);
    });
    await raw.shutdown();
    await portTtl.close();
    await port.close();
  }
}

type Cql = ReturnType<typeof timeSeriesStatements>;
type Options = { prepare: boolean; isIdempotent: boolean; consistency: number };

async function benchWrite(
  port: TimeSeries,
  portTtl: TimeSeries,
  raw: Client,
  cql: Cql,
  options: Options,
): Promise<void> {
  // Each side writes its own series (same shapes), one point per call, 100 streams.
  const point = (series: string, i: number): Point => ({
    series,
    tags: tagsOf(i),
    time: base + Math.floor(i / streams),
    fields,
  });
  // The row the adapter writes for that point, with the same work to build it (tag key, bucket).
  const rawInsert = (series: string, ttl: number) => (i: number) => {
    const time = base + Math.floor(i / streams);
    const params = [series, tagKeyOf(tagsOf(i)), time - (time % dayMs), time, fields, ttl];
    return raw.execute(cql.insertPoint, params, options);
  };
  // Call i of a batch case: `batchPoints` points of one stream (one partition), in time order.
  const batchOf = (series: string, i: number): Point[] =>
    Array.from({ length: batchPoints }, (_, k) => ({
      ...point(series, i),
      time: base + Math.floor(i / streams) * batchPoints + k,
    }));
  // The same rows as one unlogged batch, as a caller of the raw driver would send them.
  const rawBatch = (series: string, ttl: number) => (i: number) => {
    const tagKey = tagKeyOf(tagsOf(i));
    const queries = Array.from({ length: batchPoints }, (_, k) => {
      const time = base + Math.floor(i / streams) * batchPoints + k;
      return { query: cql.insertPoint, params: [series, tagKey, time - (time % dayMs), time, fields, ttl] };
    });
    return raw.batch(queries, { ...options, logged: false });
  };
  const cases = [
    {
      name: 'timeseries.cassandra.write.c64',
      port: (i: number) => port.write(point('bench.port', i)),
      raw: rawInsert('bench.raw', 0),
    },
    {
      name: 'timeseries.cassandra.write.c64.default-ttl',
      port: (i: number) => portTtl.write(point('bench.port-ttl', i)),
      raw: rawInsert('bench.raw-ttl', ttlSeconds(ttlMs)),
    },
    {
      // Calls of 100 points of one stream, 8 in flight: the port's unlogged batch per partition
      // against the raw driver's.
      name: `timeseries.cassandra.write.points${batchPoints}.c${batchConcurrency}.default-ttl`,
      port: (i: number) => portTtl.write(batchOf('bench.port-batch', i)),
      raw: rawBatch('bench.raw-batch', ttlSeconds(ttlMs)),
      points: batchPoints,
      workers: batchConcurrency,
    },
  ].filter(({ name }) => onlyCases === undefined || name.includes(onlyCases));
  for (const { name, port: portOp, raw: rawOp, points = 1, workers = concurrency } of cases) {
    // A slice writes about ten times as many points when a call writes many.
    const slice = Math.max(workers, Math.round((writesPerRound / slices) * (points > 1 ? 10 / points : 1)));
    let portNext = 0;
    let rawNext = 0;
    const portSlice = async (count: number): Promise<number> => {
      const ms = await timed(portNext, count, workers, portOp);
      portNext += count;
      return ms;
    };
    const rawSlice = async (count: number): Promise<number> => {
      const ms = await timed(rawNext, count, workers, rawOp);
      rawNext += count;
      return ms;
    };
    // Warm-up: statements prepared, index rows of the untimed streams written once, JIT warm.
    for (let i = 0; i < 2; i++) {
      await portSlice(slice);
      await rawSlice(slice);
    }
    const ratios: number[] = [];
    const portRates: number[] = [];
    const rawRates: number[] = [];
    for (let round = 0; round < rounds; round++) {
      let portMs = 0;
      let rawMs = 0;
      for (let i = 0; i < slices; i++) {
        if ((round + i) % 2 === 0) {
          portMs += await portSlice(slice);
          rawMs += await rawSlice(slice);
        } else {
          rawMs += await rawSlice(slice);
          portMs += await portSlice(slice);
        }
      }
      const portRate = (slices * slice * points) / (portMs / 1000);
      const rawRate = (slices * slice * points) / (rawMs / 1000);
      console.error(`${name} round ${round}: port ${Math.round(portRate)}/s, raw ${Math.round(rawRate)}/s`);
      portRates.push(portRate);
      rawRates.push(rawRate);
      ratios.push(portRate / rawRate);
    }
    console.error(
      `${name}: port ${Math.round(median(portRates))} points/s, raw prepared ${points > 1 ? 'unlogged BATCH' : 'INSERT'} ${Math.round(median(rawRates))} points/s (medians of ${rounds} rounds)`,
    );
    console.log(`ratio ${name} ${median(ratios).toFixed(3)}`);
  }
}

// The range: one stream whose points all fall in one bucket (one day), so the raw side is one
// query paged by the driver (fetchSize and pageState), and the port lists that one bucket.
async function benchRange(port: TimeSeries, raw: Client, cql: Cql, options: Options): Promise<void> {
  const series = 'bench.range';
  const tags = { host: 'h-range', region: 'eu' };
  const tagKey = tagKeyOf(tags);
  await timed(0, rangePoints, concurrency, (i) =>
    port.write({ series, tags, time: base + i, fields: { value: i, count: 1 } }),
  );
  const from = base;
  const to = base + dayMs;
  let sink = 0;

  /** One full read through `range()`, taken a page at a time: each call times the next page. */
  function portReader(): () => Promise<number> {
    const points = port.range({ series, tags, from, to, pageSize })[Symbol.asyncIterator]();
    return async () => {
      let seen = 0;
      const started = performance.now();
      while (seen < pageSize) {
        const next = await points.next();
        if (next.done === true) break;
        sink += next.value.time;
        seen++;
      }
      const ms = performance.now() - started;
      if (seen !== pageSize) throw new Error(`port page of ${seen} points, not ${pageSize}`);
      return ms;
    };
  }

  /** One full read as one paged SELECT (fetchSize and pageState): each call times the next page. */
  function rawReader(): () => Promise<number> {
    let pageState: string | undefined;
    return async () => {
      const started = performance.now();
      const result = await raw.execute(cql.pointsAsc, [series, tagKey, base, from, to], {
        ...options,
        fetchSize: pageSize,
        ...(pageState === undefined ? {} : { pageState }),
      });
      for (const row of result.rows) {
        // What a caller of the raw driver reads of a row: its time and fields.
        const point = { time: (row.get('time') as Date).getTime(), fields: row.get('fields') as object };
        sink += point.time;
      }
      const state: string | null = result.pageState;
      pageState = state ?? undefined;
      const ms = performance.now() - started;
      if (result.rows.length !== pageSize) throw new Error(`raw page of ${result.rows.length} rows`);
      return ms;
    };
  }

  // A round reads the whole stream once on each side, their pages taking turns (which side goes
  // first alternates by round), so this machine's swings fall on both alike.
  const pages = Math.floor(rangePoints / pageSize);
  async function readBoth(round: number): Promise<{ portMs: number; rawMs: number }> {
    collectGarbage();
    const portPage = portReader();
    const rawPage = rawReader();
    let portMs = 0;
    let rawMs = 0;
    for (let i = 0; i < pages; i++) {
      if (round % 2 === 0) {
        portMs += await portPage();
        rawMs += await rawPage();
      } else {
        rawMs += await rawPage();
        portMs += await portPage();
      }
    }
    return { portMs, rawMs };
  }

  for (let i = 0; i < 2; i++) await readBoth(i);
  const ratios: number[] = [];
  const portRates: number[] = [];
  const rawRates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const { portMs, rawMs } = await readBoth(round);
    const portRate = rangePoints / (portMs / 1000);
    const rawRate = rangePoints / (rawMs / 1000);
    console.error(`range round ${round}: port ${Math.round(portRate)}/s, raw ${Math.round(rawRate)}/s`);
    portRates.push(portRate);
    rawRates.push(rawRate);
    ratios.push(portRate / rawRate);
  }
  const label = `timeseries.cassandra.range.${Math.round(rangePoints / 1000)}k`;
  console.error(
    `${label}: port range() ${Math.round(median(portRates))} points/s, raw paged SELECT ${Math.round(median(rawRates))} points/s (one bucket, pages of ${pageSize}, medians of ${rounds} rounds)`,
  );
  console.log(`ratio ${label} ${median(ratios).toFixed(3)}`);
  if (sink === 0) console.error('nothing read');
}

async function benchMemory(): Promise<void> {
  const memory = createMemoryTimeSeries({ maxPoints: 10_000_000 }, silent);
  const total = writesPerRound * 4;
  const writeRates: number[] = [];
  let next = 0;
  for (let round = 0; round < rounds + 2; round++) {
    const ms = await timed(next, total, concurrency, (i) =>
      memory.write({ series: 'bench.memory', tags: tagsOf(i), time: base + Math.floor(i / streams), fields }),
    );
    next += total;
    if (round >= 2) writeRates.push(total / (ms / 1000));
  }
  const series = 'bench.memory-range';
  const tags = { host: 'h-range', region: 'eu' };
  for (let i = 0; i < rangePoints; i++)
    await memory.write({ series, tags, time: base + i, fields: { value: i, count: 1 } });
  const rangeRates: number[] = [];
  for (let round = 0; round < rounds + 2; round++) {
    collectGarbage();
    let seen = 0;
    let sink = 0;
    const started = performance.now();
    for await (const point of memory.range({ series, tags, from: base, to: base + dayMs, pageSize })) {
      sink += point.time;
      seen++;
    }
    const ms = performance.now() - started;
    if (seen !== rangePoints || sink === 0) throw new Error(`memory read ${seen} points, not ${rangePoints}`);
    if (round >= 2) rangeRates.push(rangePoints / (ms / 1000));
  }
  console.error(
    `timeseries.memory: write c64 ${Math.round(median(writeRates))} points/s, range ${Math.round(median(rangeRates))} points/s (pages of ${pageSize}, medians of ${rounds} rounds)`,
  );
  await memory.close();
}

if (only === undefined || only === 'write' || only === 'range') await benchCassandra();
if (only === undefined || only === 'memory') await benchMemory();
