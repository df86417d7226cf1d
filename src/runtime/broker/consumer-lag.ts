import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { BrokerAdapter } from '../../ports/broker.ts';
import { attributes, messagingConsumerLag } from '../telemetry/semconv.ts';

type Labels = Record<string, string>;

/** A subscription whose lag is reported: its topic and consumer group. */
export interface LaggingSubscription {
  readonly topic: string;
  readonly group: string;
}

interface LagSource {
  collect(set: (labels: Labels, value: number) => void): Promise<void>;
}

// Each scrape waits this long at most for a broker's answer, then reports what it last knew.
const collectTimeoutMs = 2_000;
// Scrapes closer together than this share one round of backend calls.
const minRefreshMs = 1_000;

const sourcesByRegistry = new WeakMap<Registry, Set<LagSource>>();

// One gauge per registry, filled on scrape from every broker on it.
function lagGauge(registry: Registry): Set<LagSource> {
  const known = sourcesByRegistry.get(registry);
  if (known !== undefined) return known;
  const owned = new Set<LagSource>();
  sourcesByRegistry.set(registry, owned);
  if (registry.getSingleMetric(messagingConsumerLag.name) === undefined) {
    new Gauge({
      name: messagingConsumerLag.name,
      help: messagingConsumerLag.help,
      labelNames: messagingConsumerLag.labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        await Promise.all(
          [...owned].map((source) => source.collect((labels, value) => this.set(labels, value))),
        );
      },
    });
  }
  return owned;
}

/**
 * Reports the consumer lag of a broker's open subscriptions in
 * `berth_messaging_consumer_lag_messages`, asked of the backend when the registry is scraped
 * (at most once a second, each answer within 2 s; a failed or late answer reports the last one
 * known). Returns the function that stops reporting, for `close()`; nothing for a backend that
 * cannot tell its lag.
 */
export function reportConsumerLag(
  registry: Registry,
  adapter: BrokerAdapter,
  component: string,
  subscriptions: () => Iterable<LaggingSubscription>,
  logger: Logger,
): (() => void) | undefined {
  const lagOf = adapter.lag?.bind(adapter);
  if (lagOf === undefined) return undefined;
  const sources = lagGauge(registry);
  let known: { labels: Labels; value: number }[] = [];
  let refreshedAt = -Infinity;
  let refreshing: Promise<void> | undefined;

  const refresh = async (): Promise<void> => {
    const signal = AbortSignal.timeout(collectTimeoutMs);
    const next: { labels: Labels; value: number }[] = [];
    const watched = new Map<string, LaggingSubscription>();
    for (const subscription of subscriptions())
      watched.set(`${subscription.topic}\u0000${subscription.group}`, subscription);
    await Promise.all(
      [...watched.values()].map(async ({ topic, group }) => {
        try {
          for (const { partition, lag } of await lagOf(topic, group, signal)) {
            next.push({
              labels: {
                [attributes.messagingSystem]: adapter.system,
                [attributes.messagingDestinationName]: topic,
                [attributes.messagingDestinationPartitionId]: partition,
                [attributes.messagingConsumerGroupName]: group,
                [attributes.component]: component,
              },
              value: lag,
            });
          }
        } catch (error) {
          // The last answer stands for this subscription; a scrape must not fail for it.
          logger.debug({ err: error, topic, group }, 'consumer lag not read');
          for (const entry of known)
            if (
              entry.labels[attributes.messagingDestinationName] === topic &&
              entry.labels[attributes.messagingConsumerGroupName] === group
            )
              next.push(entry);
        }
      }),
    );
    known = next;
    refreshedAt = performance.now();
  };

  const source: LagSource = {
    async collect(set) {
      if (performance.now() - refreshedAt >= minRefreshMs) {
        refreshing ??= refresh().finally(() => (refreshing = undefined));
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, collectTimeoutMs)));
        await Promise.race([refreshing, late]);
        clearTimeout(timer);
      }
      for (const { labels, value } of known) set(labels, value);
    },
  };
  sources.add(source);
  return () => sources.delete(source);
}
