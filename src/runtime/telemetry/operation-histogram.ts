import type { Registry } from 'prom-client';
import type { OperationMetrics } from './semconv.ts';

type Labels = Record<string, string>;

interface MetricValue {
  metricName: string;
  labels: Labels;
  value: number;
}

/** One label set of a histogram; `observe` is a few array writes, no label hashing. */
export class HistogramSeries {
  readonly labels: Labels;
  readonly #bounds: readonly number[];
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

/**
 * A Prometheus histogram registered on a prom-client Registry. prom-client's own Histogram
 * hashes the label object on every observe, which costs more than a local Redis GET at
 * high concurrency; callers here bind a series once and observe into it.
 */
export class OperationHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly bounds: readonly number[];
  readonly #series = new Map<string, HistogramSeries>();

  constructor(name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.bounds = bounds;
  }

  series(labels: Labels): HistogramSeries {
    const key = JSON.stringify(labels);
    let series = this.#series.get(key);
    if (series === undefined) {
      series = new HistogramSeries(labels, this.bounds);
      this.#series.set(key, series);
    }
    return series;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const series of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.counts[i]!;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { ...series.labels, le: String(this.bounds[i]) },
          value: cumulative,
        });
      }
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { ...series.labels, le: '+Inf' },
        value: series.count,
      });
      values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: series.labels, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#series.clear();
  }

  /** One instance per registry and name, so every adapter on a registry shares it. */
  static on(registry: Registry, family: OperationMetrics): OperationHistogram {
    const existing = registry.getSingleMetric(family.name) as unknown;
    if (existing instanceof OperationHistogram) return existing;
    const histogram = new OperationHistogram(family.name, family.help, family.buckets);
    // prom-client accepts any object with name, help, type and get(); its types ask for a full Metric.
    registry.registerMetric(histogram as unknown as Parameters<Registry['registerMetric']>[0]);
    return histogram;
  }
}
