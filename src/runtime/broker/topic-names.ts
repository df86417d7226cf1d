import type { BrokerAdapter, BrokerOperation } from '../../ports/broker.ts';
import type { Guard } from '../guard/guard.ts';

const maxRememberedTopics = 1_000;

/** Topic names checked by the backend's rule; names that passed are remembered, so a hot topic is not matched on every publish. */
export class TopicNames {
  readonly #guard: Guard<BrokerOperation>;
  readonly #adapter: BrokerAdapter;
  readonly #valid = new Set<string>();

  constructor(guard: Guard<BrokerOperation>, adapter: BrokerAdapter) {
    this.#guard = guard;
    this.#adapter = adapter;
  }

  check(operation: string, topic: unknown, path = 'topic'): string {
    if (this.#valid.has(topic as string)) return topic as string;
    const problem =
      typeof topic !== 'string' || topic.length === 0
        ? 'must be a non-empty string'
        : this.#adapter.checkTopic(topic);
    if (problem !== undefined) throw this.#guard.invalid(operation, path, problem);
    if (this.#valid.size >= maxRememberedTopics) this.#valid.clear();
    this.#valid.add(topic as string);
    return topic as string;
  }
}
