import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Broker, OutgoingMessage } from '../../ports/broker.ts';
import type { Component, HealthResult } from '../../ports/component.ts';
import { InfraError, isInfraError } from '../../ports/errors.ts';
import { redactCredentials } from '../../ports/redacted.ts';
import type { SqlListener } from '../../ports/sql-database.ts';
import { sql } from '../../ports/sql.ts';
import { probeWithin } from '../guard/guard-health.ts';
import { defaultRuntime, type Runtime } from '../runtime.ts';
import { counterOn } from '../telemetry/metrics.ts';
import { outboxRelayedMessages } from '../telemetry/semconv.ts';
import type { Outbox } from './outbox.ts';
import { nextRows } from './outbox-statements.ts';
import { OutboxStats } from './outbox-stats.ts';
import { RelayLeases } from './relay-leases.ts';

export interface OutboxRelayOptions {
  outbox: Outbox;
  /** Where the messages go. */
  broker: Broker;
  /** The component's id; default `outbox-relay:<table>`. */
  id?: string;
  /** Rows read and published at a time; default 500, at most 2,000. */
  batchSize?: number;
  /** The longest wait between looks at an idle outbox; default 1,000 ms. Commits in this process wake it at once. */
  pollIntervalMs?: number;
  /** How long a relay's claim on a partition lasts unless renewed (a dead relay's partitions move after it); default 10,000 ms. */
  leaseMs?: number;
  /** Health is `degraded` while the oldest pending message is older; default 60,000 ms. */
  maxAgeMs?: number;
  runtime?: Runtime;
}

/** Publishes what an outbox's transactions committed: a component to register with the infrastructure. */
export interface OutboxRelay extends Component {
  /** Begins relaying; resolves after the first lease round (rejects if the outbox's tables are missing). */
  start(): Promise<void>;
}

interface OutboxRow {
  seq: number | string | bigint;
  topic: string;
  message_key: string | null;
  message_id: string;
  headers: string;
  // pg and mssql give a Buffer, PGlite a Uint8Array: both are Uint8Arrays.
  payload: Uint8Array;
}

const positive = (name: string, value: number | undefined, fallback: number, max: number): number => {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max)
    throw new InfraError('validation', `outbox relay: ${name}: must be an integer from 1 to ${max}`, {
      port: 'outbox',
    });
  return value;
};

/**
 * A relay: it leases partitions of the outbox, publishes their rows to the broker in `seq`
 * order (so in commit order per key), deletes them once the broker acknowledged them, and
 * backs off while the broker or the database fails. At least once: a relay that dies between
 * publish and delete leaves rows the next owner publishes again, with their ids.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  return new Relay(options);
}

class Relay implements OutboxRelay {
  readonly id: string;
  readonly #outbox: Outbox;
  readonly #broker: Broker;
  readonly #logger: Logger;
  readonly #runtime: Runtime;
  readonly #batchSize: number;
  readonly #pollIntervalMs: number;
  readonly #leaseMs: number;
  readonly #leases: RelayLeases;
  readonly #stats: OutboxStats;
  readonly #relayed: Counter;
  readonly #stop = new AbortController();
  #starting: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #woken = false;
  #lastFailure: { message: string; at: number } | undefined;
  #lastSuccessAt = 0;
  #unsubscribe: (() => void) | undefined;
  #listener: SqlListener | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: OutboxRelayOptions) {
    if (typeof options.broker?.publish !== 'function')
      throw new InfraError('validation', 'outbox relay: broker: must be a Broker', { port: 'outbox' });
    this.#outbox = options.outbox;
    this.#broker = options.broker;
    this.id = options.id ?? `outbox-relay:${options.outbox.tables.messages}`;
    this.#runtime = options.runtime ?? defaultRuntime();
    this.#logger = this.#runtime.logger.child({ component: this.id });
    this.#batchSize = positive('batchSize', options.batchSize, 500, 2_000);
    this.#pollIntervalMs = positive('pollIntervalMs', options.pollIntervalMs, 1_000, 600_000);
    this.#leaseMs = positive('leaseMs', options.leaseMs, 10_000, 3_600_000);
    const relay = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#leases = new RelayLeases(
      options.outbox.sql,
      options.outbox.tables,
      options.outbox.partitions,
      relay,
      this.#leaseMs,
    );
    this.#stats = new OutboxStats(
      options.outbox,
      this.id,
      this.#runtime.registry,
      positive('maxAgeMs', options.maxAgeMs, 60_000, 86_400_000),
    );
    this.#relayed = counterOn(this.#runtime.registry, outboxRelayedMessages);
  }

  // Once: a second call (the app's and the infrastructure's) waits for the first.
  start(): Promise<void> {
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#starting = undefined;
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    try {
      await this.#leases.renew();
    } catch (error) {
      // Missing tables are a mistake to report at start; a database down is waited out.
      if (!(isInfraError(error) && error.retryable)) throw error;
      this.#failed(error);
    }
    if (this.#stop.signal.aborted) return;
    this.#unsubscribe = this.#outbox.onCommit(() => this.#nudge());
    // Commits of other processes, where the database notifies (PostgreSQL); else the poll finds them.
    const { sql: database, tables } = this.#outbox;
    this.#listener = await database
      .listen?.(tables.messages, () => this.#nudge())
      .catch((error: unknown) => {
        this.#logger.warn({ err: error }, 'outbox relay cannot listen for commits; polling only');
        return undefined;
      });
    this.#loop = this.#run();
  }

  readonly health = async (signal?: AbortSignal): Promise<HealthResult> => {
    if (this.#stop.signal.aborted) return { status: 'down', error: 'closed' };
    const result = await probeWithin(
      (probeSignal) => this.#stats.health(probeSignal),
      signal,
      this.#runtime.policies.healthTimeoutMs,
      (error) => (isInfraError(error) ? error : new InfraError('internal', String(error))),
    );
    // Failing now: no round has gone through since the last failure.
    const failure = this.#lastFailure;
    const recent = failure !== undefined && failure.at >= this.#lastSuccessAt;
    return {
      ...result,
      status: result.status === 'up' && recent ? 'degraded' : result.status,
      details: {
        ...result.details,
        partitions: this.#leases.owned().length,
        ...(recent ? { lastFailure: failure.message } : {}),
      },
    };
  };

  readonly close = (): Promise<void> => (this.#closing ??= this.#close());

  readonly [Symbol.asyncDispose] = (): Promise<void> => this.close();

  async #close(): Promise<void> {
    this.#stop.abort();
    await this.#starting?.catch(() => undefined);
    this.#unsubscribe?.();
    await this.#listener?.close().catch(() => undefined);
    this.#stats.close();
    this.#nudge();
    await this.#loop;
    // Given back so another relay takes over now rather than after the lease; bounded, never fatal.
    await Promise.race([
      this.#leases
        .release()
        .catch((error: unknown) => this.#logger.warn({ err: error }, 'leases not released')),
      new Promise((resolve) => setTimeout(resolve, this.#runtime.policies.timeoutMs).unref()),
    ]);
  }

  async #run(): Promise<void> {
    let idle = 0;
    let failures = 0;
    let renewAt = Date.now() + this.#leaseMs / 3;
    while (!this.#stop.signal.aborted) {
      try {
        if (Date.now() >= renewAt || this.#leases.owned().length === 0) {
          await this.#leases.renew();
          renewAt = Date.now() + this.#leaseMs / 3;
        }
        const owned = this.#leases.owned();
        const sent = owned.length === 0 ? 0 : await this.#relayBatch(owned);
        failures = 0;
        this.#lastSuccessAt = Date.now();
        if (sent >= this.#batchSize) continue;
        idle = sent > 0 ? 0 : idle + 1;
        // Nothing pending: look again soon, then less often, up to the poll interval.
        const waitMs = owned.length === 0 ? this.#leaseMs / 3 : Math.min(this.#pollIntervalMs, 5 * 2 ** idle);
        await this.#sleep(Math.min(waitMs, Math.max(0, renewAt - Date.now())));
      } catch (error) {
        failures++;
        this.#failed(error);
        await this.#sleep(Math.min(this.#pollIntervalMs, 50 * 2 ** Math.min(failures, 10)));
      }
    }
  }

  /** One batch of the owned partitions; how many rows it read. */
  async #relayBatch(partitions: readonly number[]): Promise<number> {
    const { sql: database, tables } = this.#outbox;
    const rows = await database.query<OutboxRow>(
      nextRows(database.dialect, tables.messages, partitions, this.#batchSize),
    );
    if (rows.length === 0) return 0;
    const byTopic = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const list = byTopic.get(row.topic);
      if (list === undefined) byTopic.set(row.topic, [row]);
      else list.push(row);
    }
    const outcomes = await Promise.allSettled(
      [...byTopic].map(([topic, list]) => this.#publish(topic, list)),
    );
    const published = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? outcome.value : []));
    if (published.length > 0) {
      await database.execute(
        sql`DELETE FROM ${sql.id(tables.messages)} WHERE seq IN (${sql.join(published.map((row) => BigInt(row.seq)))})`,
      );
      this.#relayed.inc({ component: this.id, outcome: 'published' }, published.length);
    }
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return rows.length;
  }

  /**
   * A topic's rows in order; resolves those the broker took. One it refuses for good is set
   * aside with the reason (no longer tried), and the rest go on.
   */
  async #publish(topic: string, rows: readonly OutboxRow[]): Promise<readonly OutboxRow[]> {
    try {
      await this.#broker.publish(topic, rows.map(message), { encoding: 'bytes' });
      return rows;
    } catch (error) {
      if (!(isInfraError(error) && error.reason === 'validation')) throw error;
    }
    // One at a time, to find which the broker refuses.
    const published: OutboxRow[] = [];
    for (const row of rows) {
      try {
        await this.#broker.publish(topic, message(row), { encoding: 'bytes' });
        published.push(row);
      } catch (error) {
        if (!(isInfraError(error) && error.reason === 'validation')) throw error;
        await this.#setAside(row, error);
      }
    }
    return published;
  }

  async #setAside(row: OutboxRow, error: InfraError): Promise<void> {
    const reason = redactCredentials(error.message).slice(0, 1_000);
    this.#logger.error(
      { err: error, topic: row.topic, messageId: row.message_id },
      'outbox message refused by the broker; set aside',
    );
    const { sql: database, tables } = this.#outbox;
    await database.execute(
      sql`UPDATE ${sql.id(tables.messages)} SET failure = ${reason} WHERE seq = ${BigInt(row.seq)}`,
    );
    this.#relayed.inc({ component: this.id, outcome: 'failed' });
  }

  #failed(error: unknown): void {
    const message = redactCredentials(error instanceof Error ? error.message : String(error));
    if (this.#lastFailure?.message !== message)
      this.#logger.warn({ err: error }, 'outbox relay failed; backing off');
    this.#lastFailure = { message, at: Date.now() };
  }

  #nudge(): void {
    this.#woken = true;
    this.#wake?.();
  }

  // Until `ms` pass or a nudge; a nudge while no sleep is pending makes the next one return at once.
  #sleep(ms: number): Promise<void> {
    if (this.#woken || this.#stop.signal.aborted) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}

function message(row: OutboxRow): OutgoingMessage<Uint8Array> {
  return {
    value: row.payload,
    ...(row.message_key === null ? {} : { key: row.message_key }),
    id: row.message_id,
    headers: JSON.parse(row.headers) as Record<string, string>,
  };
}
