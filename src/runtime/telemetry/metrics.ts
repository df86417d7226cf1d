import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { genAiClientTokenUsage, type MetricDefinition } from './semconv.ts';

// One instance per registry and name: every adapter on a registry shares it.
function metricOn<M>(registry: Registry, definition: MetricDefinition, create: () => M): M {
  return (registry.getSingleMetric(definition.name) as M | undefined) ?? create();
}

const configuration = (definition: MetricDefinition, registry: Registry) => ({
  name: definition.name,
  help: definition.help,
  labelNames: definition.labelNames,
  registers: [registry],
});

export function counterOn(registry: Registry, definition: MetricDefinition): Counter {
  return metricOn(registry, definition, () => new Counter(configuration(definition, registry)));
}

export function gaugeOn(registry: Registry, definition: MetricDefinition): Gauge {
  return metricOn(registry, definition, () => new Gauge(configuration(definition, registry)));
}

export function histogramOn(registry: Registry, definition: MetricDefinition): Histogram {
  return metricOn(
    registry,
    definition,
    () =>
      new Histogram({
        ...configuration(definition, registry),
        ...(definition.buckets === undefined ? {} : { buckets: [...definition.buckets] }),
      }),
  );
}

/** `gen_ai_client_token_usage`, created once per registry. */
export function tokenUsageHistogram(registry: Registry): Histogram {
  return histogramOn(registry, genAiClientTokenUsage);
}
