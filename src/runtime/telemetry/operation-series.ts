import type { Registry } from 'prom-client';
import type { ServerInfo } from './server-info.ts';
import { HistogramSeries, OperationHistogram } from './operation-histogram.ts';
import { attributes, type OperationMetrics } from './semconv.ts';

type Labels = Record<string, string>;

/**
 * The duration series of one guarded adapter in its port's family: the labels every series
 * carries (system, server, namespace, component), each operation's success series bound once,
 * and series for calls with labels of their own or for failures.
 */
export class OperationSeries {
  readonly #histogram: OperationHistogram;
  readonly #metrics: OperationMetrics;
  readonly #base: Labels;
  readonly #ok: Record<string, HistogramSeries> = {};

  constructor(
    registry: Registry,
    metrics: OperationMetrics,
    system: string,
    server: ServerInfo | undefined,
    component: string,
    operations: readonly string[],
  ) {
    this.#metrics = metrics;
    this.#histogram = OperationHistogram.on(registry, metrics);
    const base: Labels = { [metrics.system]: system };
    if (server?.address !== undefined) base[attributes.serverAddress] = server.address;
    if (server?.port !== undefined) base[attributes.serverPort] = String(server.port);
    if (metrics.namespace !== undefined && server?.namespace !== undefined)
      base[metrics.namespace] = server.namespace;
    base[attributes.component] = component;
    this.#base = base;
    // Series bound up front would stay empty when every call brings labels of its own.
    if (metrics.labelledPerCall !== true)
      for (const operation of operations)
        this.#ok[operation] = this.#histogram.series(this.#labels(operation));
  }

  /** The series of a successful call: bound once, unless the call brings labels. */
  succeeded(operation: string, labels: Labels | undefined): HistogramSeries {
    return labels === undefined
      ? (this.#ok[operation] ?? this.#histogram.series(this.#labels(operation)))
      : this.#histogram.series(this.#labels(operation, labels));
  }

  failed(operation: string, labels: Labels | undefined, errorType: string): HistogramSeries {
    return this.#histogram.series({ ...this.#labels(operation, labels), [attributes.errorType]: errorType });
  }

  #labels(operation: string, labels?: Labels): Labels {
    return {
      ...this.#base,
      [this.#metrics.operation]: operation,
      ...this.#metrics.operationLabels?.[operation],
      ...labels,
    };
  }
}
