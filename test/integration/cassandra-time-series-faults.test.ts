// The Cassandra time series against a node of this test's own, frozen (SIGSTOP), then stopped and
// started again mid-write, then cross-checked against the memory adapter with the same points.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { canProvide } from '../servers/services.ts';
import { createCassandraTimeSeries } from '../../src/adapters/cassandra/index.ts';
import { createMemoryTimeSeries } from '../../src/adapters/memory/time-series.ts';
import { HealthChecker } from '../../src/health/index.ts';
import {
  isInfraError,
  type AggregateFunction,
  type Point,
  type StoredPoint,
  type Tags,
  type TimeSeries,
} from '../../src/ports/index.ts';
import { ownService } from '../support/own-service.ts';
import { silentRuntime } from '../support/runtime.ts';
import { waitFor } from '../support/wait.ts';

// The calls it waits for settle in memory: polled faster than a server is asked.
const poll = { everyMs: 50 };

// A Cassandra of this test's own (CQL on `port`, storage on `port + 1`), so freezing and stopping
// it disturbs no other test; its data survives a restart (KEEP_DATA).
const { stateDir, port, services } = await ownService('cassandra');

/** The node's JVM: the services script execs java in place of its shell, so the pidfile holds it. */
function jvmPid(): number {
  const pid = Number.parseInt(readFileSync(join(stateDir, 'cassandra', 'cassandra.pid'), 'utf8'), 10);
  const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  assert.match(commandLine, /CassandraDaemon/, `pid ${pid} is the Cassandra JVM`);
  return pid;
}

const log = (line: string): void => void process.stderr.write(`cassandra faults: ${line}\n`);

const skip =
  canProvide('cassandra') || process.env.CI === 'true'
    ? false
    : 'this machine cannot run Cassandra locally (Java 17 and Maven are needed): the test freezes, stops and restarts a Cassandra of its own';

// 2026-01-05 23:00 UTC: the points of every case cross midnight, so two day buckets.
const t0 = Date.UTC(2026, 0, 5, 23, 0);
const keyspace = 'berth_faults';

describe('cassandra time series through node faults', { skip, concurrency: false }, () => {
  let contactPoints: string[] = [];
  let localDataCenter = 'datacenter1';
  let frozenPid: number | undefined;
  const stores: TimeSeries[] = [];
  const open = (timeoutMs: number, breaker = { consecutiveFailures: 3, halfOpenAfterMs: 1_000 }) => {
    const store = createCassandraTimeSeries(
      {
        contactPoints,
        localDataCenter,
        keyspace,
        createSchema: { replication: { replicationFactor: 1 } },
        // One attempt: a call's deadline is then its whole time, which is what is measured here.
        policies: { timeoutMs, healthTimeoutMs: 1_000, retry: { maxAttempts: 1 }, breaker },
      },
      silentRuntime(),
    );
    stores.push(store);
    return store;
  };

  after(async () => {
    // A failed assertion mid-freeze must not leave a stopped JVM for `down` to wait on.
    if (frozenPid !== undefined) process.kill(frozenPid, 'SIGCONT');
    for (const store of stores) await store.close();
    await services('down', 'cassandra');
  });

  it('starts a node of its own', async () => {
    const output = await services('up', 'cassandra');
    const points = /CASSANDRA_CONTACT_POINTS=(\S+)/.exec(output)?.[1];
    assert.ok(points, 'the services script printed CASSANDRA_CONTACT_POINTS');
    contactPoints = points.split(',');
    localDataCenter = /CASSANDRA_LOCAL_DATACENTER=(\S+)/.exec(output)?.[1] ?? localDataCenter;
    assert.equal(contactPoints[0], `127.0.0.1:${port}`);
  });

  it('frozen: calls fail within their deadline (timeout, then circuit_open), readiness goes down, nothing piles up; resumed, calls succeed on the same store', async () => {
    const timeoutMs = 1_000;
    // The test's own event loop and timer granularity, not the store's: a call settles within this of its deadline.
    const marginMs = 1_000;
    const store = open(timeoutMs);
    // The first call creates the keyspace and tables: a deadline of its own.
    await store.write(
      { series: 'freeze', tags: { n: '0' }, time: t0, fields: { v: 0 } },
      { timeoutMs: 60_000 },
    );
    const health = new HealthChecker({ cacheTtlMs: 0 });
    health.register('cassandra', store, { timeoutMs: 2_000 });
    health.markStarted();
    assert.equal((await health.readiness()).status, 'up');

    interface Call {
      started: number;
      ended?: number;
      outcome?: string;
    }
    const calls: Call[] = [];
    const pending = new Set<Call>();
    let oldestPendingMs = 0;
    let stopLoad = false;
    let written = 1;
    const track = (promise: Promise<unknown>): void => {
      const call: Call = { started: performance.now() };
      calls.push(call);
      pending.add(call);
      promise.then(
        () => (call.outcome = 'ok'),
        (error: unknown) => (call.outcome = isInfraError(error) ? error.reason : String(error)),
      );
      void promise
        .catch(() => undefined)
        .finally(() => {
          call.ended = performance.now();
          pending.delete(call);
        });
    };
    // A steady load: a latest() every 20 ms and a write every 100 ms, none awaited by the loop.
    const load = (async () => {
      for (let tick = 0; !stopLoad; tick++) {
        track(store.latest('freeze', { n: '0' }));
        if (tick % 5 === 0) {
          const n = written++;
          track(store.write({ series: 'freeze', tags: { n: '0' }, time: t0 + n, fields: { v: n } }));
        }
        const now = performance.now();
        for (const call of pending) oldestPendingMs = Math.max(oldestPendingMs, now - call.started);
        await sleep(20);
      }
    })();
    const settled = (from: number, outcome: string) =>
      calls.filter((call) => call.started >= from && call.outcome === outcome);

    const before = performance.now();
    await waitFor(
      '20 calls succeeded before the freeze',
      () => settled(before, 'ok').length >= 20,
      30_000,
      poll,
    );
    assert.ok(oldestPendingMs < timeoutMs, `no call pending past its deadline while the node runs`);

    const pid = jvmPid();
    process.kill(pid, 'SIGSTOP');
    frozenPid = pid;
    const frozenAt = performance.now();
    let readinessDownAt: number | undefined;
    await waitFor(
      'a timeout, then circuit_open, and readiness down while the node is frozen',
      async () => {
        if (readinessDownAt === undefined && (await health.readiness()).status === 'down')
          readinessDownAt = performance.now();
        return (
          readinessDownAt !== undefined &&
          settled(frozenAt, 'timeout').length > 0 &&
          settled(frozenAt, 'circuit_open').length > 0
        );
      },
      20_000,
      poll,
    );
    // Some more of the load against the frozen node: a queue would show as calls growing older.
    await sleep(2 * timeoutMs);
    // Calls already in flight at SIGSTOP time out too, and may be the ones that open the circuit.
    const firstTimeout = Math.min(
      ...calls
        .filter((call) => call.outcome === 'timeout' && call.ended !== undefined && call.ended >= frozenAt)
        .map((call) => call.ended!),
    );
    const firstOpen = Math.min(...settled(frozenAt, 'circuit_open').map((call) => call.ended!));
    const failedWhileFrozen = calls.filter((call) => call.started >= frozenAt && call.ended !== undefined);
    const reasons = new Set(failedWhileFrozen.map((call) => call.outcome));
    const slowest = Math.max(...failedWhileFrozen.map((call) => call.ended! - call.started));
    const timedOut = settled(frozenAt, 'timeout').map((call) => call.ended! - call.started);
    log(
      `frozen: ${failedWhileFrozen.length} calls settled, reasons ${[...reasons].join('/')}, first timeout ` +
        `${Math.round(firstTimeout - frozenAt)} ms and circuit_open ${Math.round(firstOpen - frozenAt)} ms after SIGSTOP, ` +
        `timeouts took ${Math.round(Math.min(...timedOut))}–${Math.round(Math.max(...timedOut))} ms, ` +
        `slowest failure ${Math.round(slowest)} ms, readiness down ${Math.round(readinessDownAt! - frozenAt)} ms after SIGSTOP, ` +
        `oldest pending call ${Math.round(oldestPendingMs)} ms, ${pending.size} pending now`,
    );
    assert.deepEqual(
      [...reasons].filter((reason) => reason !== 'timeout' && reason !== 'circuit_open'),
      [],
      'a frozen node gives timeout or circuit_open, nothing else',
    );
    assert.ok(
      slowest <= timeoutMs + marginMs,
      `every call failed within ${timeoutMs} + ${marginMs} ms: ${slowest}`,
    );
    assert.ok(firstOpen >= firstTimeout, 'timeouts first, then the circuit opened');
    assert.ok(
      oldestPendingMs <= timeoutMs + marginMs,
      `no call stayed pending past its deadline: the oldest was ${oldestPendingMs} ms`,
    );

    process.kill(pid, 'SIGCONT');
    frozenPid = undefined;
    const resumedAt = performance.now();
    let readinessUpAt: number | undefined;
    await waitFor(
      'a read and a write succeeded and readiness came back up after SIGCONT',
      async () => {
        if (readinessUpAt === undefined && (await health.readiness()).status === 'up')
          readinessUpAt = performance.now();
        return (
          readinessUpAt !== undefined &&
          calls.some((call) => call.started >= resumedAt && call.outcome === 'ok')
        );
      },
      15_000,
      poll,
    );
    const firstOk = Math.min(...settled(resumedAt, 'ok').map((call) => call.ended!));
    // After the first success the circuit is closed: the load then runs clean.
    const cleanFrom = performance.now();
    await waitFor(
      '50 calls in a row succeeded after the resume',
      () => settled(cleanFrom, 'ok').length >= 50,
      15_000,
      poll,
    );
    stopLoad = true;
    await load;
    await waitFor('every call settled', () => pending.size === 0, timeoutMs + marginMs, poll);
    const failedAfter = calls.filter((call) => call.started >= cleanFrom && call.outcome !== 'ok');
    log(
      `resumed: first success ${Math.round(firstOk - resumedAt)} ms and readiness up ` +
        `${Math.round(readinessUpAt! - resumedAt)} ms after SIGCONT; ${calls.length} calls in all`,
    );
    assert.deepEqual(
      failedAfter.map((call) => call.outcome),
      [],
      'calls succeed after the resume',
    );
    assert.ok(oldestPendingMs <= timeoutMs + marginMs, `the oldest pending call was ${oldestPendingMs} ms`);
    // The same store, never reopened: every write acknowledged reads back.
    const latest = await store.latest('freeze', { n: '0' });
    assert.ok(latest !== undefined && latest.time >= t0);
  });

  it('stopped mid-write and started again: every acknowledged write reads back', async () => {
    const store = open(2_000);
    const series = 'outage';
    const tags = { stream: 'a' };
    const pointsPerWrite = 20;
    const acknowledged: StoredPoint[] = [];
    let failures = 0;
    let stopWriting = false;
    let next = 0;
    // Each write is a new batch of points (no retry of a failed one: only what was acknowledged
    // is owed back). Writes run until told to stop, so one is always made into the stopped node.
    const writeAll = async (): Promise<void> => {
      while (!stopWriting) {
        const batch = Array.from({ length: pointsPerWrite }, () => {
          const n = next++;
          return { series, tags, time: t0 + n * 10, fields: { v: n, half: n / 2 } };
        });
        try {
          await store.write(batch);
          acknowledged.push(...batch);
        } catch {
          failures++;
          await sleep(100);
        }
      }
    };
    const writers = [writeAll(), writeAll(), writeAll(), writeAll()];
    await waitFor(
      '1,000 points acknowledged before the stop',
      () => acknowledged.length >= 1_000,
      60_000,
      poll,
    );
    const stopAt = performance.now();
    const stopping = services('down', 'cassandra');
    await waitFor('a write failed while the node was stopping', () => failures > 0, 60_000, poll);
    const firstFailureMs = performance.now() - stopAt;
    await stopping;
    const downMs = performance.now() - stopAt;
    const acknowledgedBeforeRestart = acknowledged.length;
    const restartedAt = performance.now();
    await services('up', 'cassandra');
    await waitFor(
      '200 points acknowledged after the restart',
      () => acknowledged.length >= acknowledgedBeforeRestart + 200,
      60_000,
      poll,
    );
    const writingAgainMs = performance.now() - restartedAt;
    stopWriting = true;
    await Promise.all(writers);

    const read: StoredPoint[] = [];
    for await (const point of store.range({
      series,
      tags,
      from: t0,
      to: t0 + next * 10,
      pageSize: 5_000,
      timeoutMs: 30_000,
    }))
      read.push(point);
    const byTime = new Map(read.map((point) => [point.time, point]));
    const missing = acknowledged.filter((point) => byTime.get(point.time)?.fields['v'] !== point.fields['v']);
    log(
      `outage: ${acknowledged.length} points acknowledged (${acknowledgedBeforeRestart} before the restart), ` +
        `${read.length} read back of ${next} attempted, ${failures} writes failed (the first ` +
        `${Math.round(firstFailureMs)} ms after \`down\` began, which took ${Math.round(downMs)} ms), writing again ${Math.round(writingAgainMs)} ms after \`up\` began, ${missing.length} acknowledged points missing`,
    );
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} acknowledged points did not read back`);
    assert.ok(read.length >= acknowledged.length);
  });

  // The issue asks for 1,000,000 points over 100 series. CI runs 100 series × 200 points (20,000):
  // this file also starts and restarts the node and must stay well under 3 minutes.
  // BERTH_TS_CROSSCHECK_POINTS=1000000 runs the full size: 226 s on 2026-11-29 (1,000,000 points
  // written in 84 s in batches per partition, 2,000,000 compared in 117 s).
  it('gives the same range, latest and aggregate answers as memory for the same points', async () => {
    const total = Number(process.env['BERTH_TS_CROSSCHECK_POINTS'] ?? 20_000);
    const seriesCount = 100;
    const perStream = Math.ceil(total / seriesCount);
    const cassandra = open(30_000, { consecutiveFailures: 5, halfOpenAfterMs: 1_000 });
    const memory = createMemoryTimeSeries({ maxPoints: Math.max(1_000_000, total + 1) }, silentRuntime());
    stores.push(memory);
    // Deterministic values (no Math.random), a sequence of its own per stream: a failure can be replayed.
    const randomFrom = (index: number): (() => number) => {
      let seed = (0x2545f491 ^ Math.imul(index + 1, 0x9e3779b1)) | 0;
      return () => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
      };
    };
    const streams = Array.from({ length: seriesCount }, (_, i) => ({
      series: `cross.${i % 10}`,
      tags: { host: `h${Math.floor(i / 10)}`, ...(i % 3 === 0 ? { region: 'eu' } : {}) },
    }));
    // Two hours from 23:00 (so across two day buckets), irregular gaps, a second field on some points.
    const spanMs = 2 * 3_600_000;
    const pointsOf = (index: number): Point[] => {
      const stream = streams[index]!;
      const random = randomFrom(index);
      const points: Point[] = [];
      let time = t0;
      for (let j = 0; j < perStream; j++) {
        time += 1 + Math.floor(random() * ((2 * spanMs) / perStream));
        const v = Math.round(random() * 2_000_000 - 1_000_000) / 1_000;
        points.push({ ...stream, time, fields: j % 3 === 0 ? { v, w: j } : { v } });
      }
      return points;
    };
    const started = performance.now();
    let end = t0;
    const indexes = streams.map((_, index) => index);
    const writeOne = async (): Promise<void> => {
      for (let index = indexes.shift(); index !== undefined; index = indexes.shift()) {
        const points = pointsOf(index);
        end = Math.max(end, Number(points.at(-1)!.time) + 1);
        await memory.write(points);
        for (let k = 0; k < points.length; k += 1_000) await cassandra.write(points.slice(k, k + 1_000));
      }
    };
    await Promise.all(Array.from({ length: 4 }, () => writeOne()));
    const writtenMs = performance.now() - started;

    const collect = async (store: TimeSeries, query: Parameters<TimeSeries['range']>[0]) => {
      const points: StoredPoint[] = [];
      for await (const point of store.range(query)) points.push(point);
      return points;
    };
    const functions: AggregateFunction[] = ['avg', 'min', 'max', 'sum', 'count', 'first', 'last'];
    const steps = [60_000, 17 * 60_000, 3_600_000];
    let compared = 0;
    const queue = [...streams];
    const checkOne = async (): Promise<void> => {
      for (let stream = queue.shift(); stream; stream = queue.shift()) {
        const query = { ...stream, from: t0, to: end };
        for (const order of ['asc', 'desc'] as const) {
          const expected = await collect(memory, { ...query, order, pageSize: 10_000 });
          assert.equal(expected.length, perStream);
          assert.deepEqual(await collect(cassandra, { ...query, order, pageSize: 10_000 }), expected);
          compared += expected.length;
        }
        // A window inside the span, a limit across the midnight bucket boundary.
        const middle = { ...stream, from: t0 + 50 * 60_000, to: t0 + 70 * 60_000, limit: 25 };
        assert.deepEqual(await collect(cassandra, middle), await collect(memory, middle));
        assert.deepEqual(
          await collect(cassandra, { ...middle, order: 'desc' }),
          await collect(memory, { ...middle, order: 'desc' }),
        );
        assert.deepEqual(
          await cassandra.latest(stream.series, stream.tags),
          await memory.latest(stream.series, stream.tags),
        );
        for (const step of steps) {
          assert.deepEqual(
            await cassandra.aggregate(query, { step, functions }),
            await memory.aggregate(query, { step, functions }),
            `${stream.series} ${JSON.stringify(stream.tags)} step ${step}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, () => checkOne()));
    for (const series of new Set(streams.map((stream) => stream.series))) {
      const sort = (sets: Tags[]) => sets.map((tags) => JSON.stringify(tags)).sort();
      assert.deepEqual(sort(await cassandra.tagSets(series)), sort(await memory.tagSets(series)));
    }
    log(
      `cross-check: ${seriesCount * perStream} points over ${seriesCount} streams written in ${Math.round(writtenMs)} ms, ` +
        `${compared} points compared by range plus latest and ${steps.length} aggregate steps, in ${Math.round(performance.now() - started - writtenMs)} ms`,
    );
  });
});
