import type { BrokerAdapter, BrokerOperation, BrokerRecord, PublishOptions } from '../../ports/broker.ts';
import type { OperationContext } from '../../ports/component.ts';
import type { BrokerTelemetry } from './tracing.ts';
import type { Guard } from '../guard/guard.ts';

/** Records gathered for one topic, and the one promise every caller that added to them awaits. */
interface GatheredPublish {
  records: BrokerRecord[];
  sent: PromiseWithResolvers<void>;
}

// Records of one shared publish call at most; more go in a call of their own at once.
const maxGatheredRecords = 1_000;

/**
 * Sends encoded records through the guard. Publishes to one topic within one turn of the event
 * loop share one guarded call: a deadline, a breaker check and a metric per message cost more
 * than encoding it. A failure of that call is every caller's failure, as within one backend batch.
 */
export class PublishGathering {
  readonly #guard: Guard<BrokerOperation>;
  readonly #adapter: BrokerAdapter;
  readonly #telemetry: BrokerTelemetry | undefined;
  readonly #gathering = new Map<string, GatheredPublish>();
  #scheduled = false;
  readonly #sendAll = (): void => this.flush();

  constructor(guard: Guard<BrokerOperation>, adapter: BrokerAdapter, telemetry?: BrokerTelemetry) {
    this.#guard = guard;
    this.#adapter = adapter;
    this.#telemetry = telemetry;
  }

  publish(topic: string, records: readonly BrokerRecord[], options?: PublishOptions): Promise<void> {
    // A call with a deadline, a budget or a signal of its own goes alone; the rest share a guarded call.
    if (
      options?.signal !== undefined ||
      options?.timeoutMs !== undefined ||
      options?.totalTimeoutMs !== undefined
    )
      return this.#run(topic, records, options);
    return this.#gather(topic, records);
  }

  /** Sends everything gathered so far now, rather than at the end of this turn. */
  flush(): void {
    this.#scheduled = false;
    for (const [topic, batch] of this.#gathering) this.#send(topic, batch);
    this.#gathering.clear();
  }

  // Callers of one batch share its promise: a promise per message would cost more than the rest.
  #gather(topic: string, records: readonly BrokerRecord[]): Promise<void> {
    let batch = this.#gathering.get(topic);
    if (batch === undefined) {
      batch = { records: [], sent: Promise.withResolvers<void>() };
      this.#gathering.set(topic, batch);
    }
    for (const record of records) batch.records.push(record);
    if (batch.records.length >= maxGatheredRecords) {
      this.#gathering.delete(topic);
      this.#send(topic, batch);
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#sendAll);
    }
    return batch.sent.promise;
  }

  #send(topic: string, batch: GatheredPublish): void {
    this.#run(topic, batch.records, undefined).then(batch.sent.resolve, batch.sent.reject);
  }

  // With telemetry: the destination on the duration, the send span's links, messages counted.
  #run(topic: string, records: readonly BrokerRecord[], options: PublishOptions | undefined): Promise<void> {
    const send = (ctx: OperationContext): Promise<void> => this.#adapter.publish(topic, records, ctx);
    if (this.#telemetry === undefined) return this.#guard.run('publish', options, send);
    return this.#telemetry.send(topic, records, (labels, span) =>
      this.#guard.run('publish', options, send, undefined, labels, span),
    );
  }
}
