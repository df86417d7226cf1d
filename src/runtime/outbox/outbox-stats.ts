import { Gauge, type Registry } from 'prom-client';
import type { HealthResult } from '../../ports/component.ts';
import { sql } from '../../ports/sql.ts';
import {
  attributes,
  outboxFailedMessages,
  outboxOldestPendingAge,
  outboxPendingMessages,
  type MetricDefinition,
} from '../telemetry/semconv.ts';
import type { Outbox } from './outbox.ts';

interface Counts {
  pending: number;
  failed: number;
  oldestAgeMs: number;
}

// Scrapes and probes closer together than this share one query.
const minRefreshMs = 1_000;
const sourcesByRegistry = new WeakMap<Registry, Set<OutboxStats>>();

/**
 * What an outbox holds, asked of its database: for health (degraded past the age bound or with
 * messages set aside) and for three gauges filled on scrape, across every relay on the registry.
 */
export class OutboxStats {
  readonly #outbox: Outbox;
  readonly #component: string;
  readonly #maxAgeMs: number;
  readonly #sources: Set<OutboxStats>;
  #last: { at: number; counts: Promise<Counts> } | undefined;

  constructor(outbox: Outbox, component: string, registry: Registry, maxAgeMs: number) {
    this.#outbox = outbox;
    this.#component = component;
    this.#maxAgeMs = maxAgeMs;
    this.#sources = gaugesOn(registry);
    this.#sources.add(this);
  }

  close(): void {
    this.#sources.delete(this);
  }

  async health(signal: AbortSignal): Promise<HealthResult> {
    const counts = await this.counts(signal);
    const problems = [
      ...(counts.oldestAgeMs > this.#maxAgeMs
        ? [`the oldest pending message is ${Math.round(counts.oldestAgeMs / 1_000)} s old`]
        : []),
      ...(counts.failed > 0 ? [`${counts.failed} messages refused by the broker are set aside`] : []),
    ];
    return {
      status: problems.length > 0 ? 'degraded' : 'up',
      details: { ...counts },
      ...(problems.length > 0 ? { error: problems.join('; ') } : {}),
    };
  }

  /** The counts of the last second, else asked now. */
  counts(signal?: AbortSignal): Promise<Counts> {
    const now = Date.now();
    if (this.#last !== undefined && now - this.#last.at < minRefreshMs) return this.#last.counts;
    const counts = this.#query(signal);
    this.#last = { at: now, counts };
    counts.catch(() => {
      if (this.#last?.counts === counts) this.#last = undefined;
    });
    return counts;
  }

  async #query(signal: AbortSignal | undefined): Promise<Counts> {
    const { sql: database, tables } = this.#outbox;
    const [row] = await database.query<{
      pending: unknown;
      failed: unknown;
      oldest: unknown;
    }>(
      sql`SELECT SUM(CASE WHEN failure IS NULL THEN 1 ELSE 0 END) AS pending, SUM(CASE WHEN failure IS NULL THEN 0 ELSE 1 END) AS failed, MIN(CASE WHEN failure IS NULL THEN created_ms END) AS oldest FROM ${sql.id(tables.messages)}`,
      signal === undefined ? {} : { signal },
    );
    const oldest = row?.oldest === null || row?.oldest === undefined ? undefined : Number(row.oldest);
    return {
      pending: Number(row?.pending ?? 0),
      failed: Number(row?.failed ?? 0),
      oldestAgeMs: oldest === undefined ? 0 : Math.max(0, Date.now() - oldest),
    };
  }

  /** The counts for a scrape: what the database says within 2 s, else nothing. */
  async scraped(): Promise<Counts | undefined> {
    return Promise.race([
      this.counts(),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 2_000).unref()),
    ]).catch(() => undefined);
  }

  get component(): string {
    return this.#component;
  }
}

// One set of gauges per registry; on scrape each asks every relay on it (one query a second each).
function gaugesOn(registry: Registry): Set<OutboxStats> {
  const known = sourcesByRegistry.get(registry);
  if (known !== undefined) return known;
  const sources = new Set<OutboxStats>();
  sourcesByRegistry.set(registry, sources);
  const values: [MetricDefinition, (counts: Counts) => number][] = [
    [outboxPendingMessages, (counts) => counts.pending],
    [outboxFailedMessages, (counts) => counts.failed],
    [outboxOldestPendingAge, (counts) => counts.oldestAgeMs / 1_000],
  ];
  for (const [definition, value] of values) {
    if (registry.getSingleMetric(definition.name) !== undefined) continue;
    new Gauge({
      name: definition.name,
      help: definition.help,
      labelNames: definition.labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        await Promise.all(
          [...sources].map(async (source) => {
            const counts = await source.scraped();
            if (counts !== undefined) this.set({ [attributes.component]: source.component }, value(counts));
          }),
        );
      },
    });
  }
  return sources;
}
