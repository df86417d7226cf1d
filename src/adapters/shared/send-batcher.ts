interface PendingSend {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface SendBatcherSettings {
  /** Extra wait for other publishes to share a request when none is in flight. */
  lingerMs: number;
  /** A batch goes at once when it holds this many messages. */
  maxBatchRecords: number;
}

/**
 * Gathers a Kafka driver's messages into one request at a time, by topic: while a request is in
 * flight, publishes gather for the next one; when idle they go after `lingerMs`, or at once
 * (guardBroker already gathers a turn of the event loop's publishes). One request in flight keeps
 * per-key order.
 */
export class SendBatcher<M> {
  readonly #send: (topics: ReadonlyMap<string, M[]>) => Promise<unknown>;
  readonly #settings: SendBatcherSettings;
  #batch: { topics: Map<string, M[]>; size: number; waiters: PendingSend[] } | undefined = undefined;
  #sending = 0;
  #flushScheduled = false;

  constructor(send: (topics: ReadonlyMap<string, M[]>) => Promise<unknown>, settings: SendBatcherSettings) {
    this.#send = send;
    this.#settings = settings;
  }

  /** Resolves when the request that carried the messages was acknowledged; rejects with its error. */
  enqueue<R>(topic: string, records: readonly R[], toMessage: (record: R) => M): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#batch ??= { topics: new Map(), size: 0, waiters: [] };
      const batch = this.#batch;
      let messages = batch.topics.get(topic);
      if (messages === undefined) {
        messages = [];
        batch.topics.set(topic, messages);
      }
      for (const record of records) messages.push(toMessage(record));
      batch.size += records.length;
      batch.waiters.push({ resolve, reject });
      if (batch.size >= this.#settings.maxBatchRecords) this.flush();
      else this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#sending > 0 || this.#flushScheduled) return;
    if (this.#settings.lingerMs === 0) return this.flush();
    this.#flushScheduled = true;
    setTimeout(() => {
      this.#flushScheduled = false;
      this.flush();
    }, this.#settings.lingerMs);
  }

  /** Sends what is gathered now, even with a request in flight (at close). */
  flush(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    if (batch === undefined) return;
    this.#sending++;
    this.#send(batch.topics)
      .then(
        () => batch.waiters.forEach((waiter) => waiter.resolve()),
        (error: unknown) => batch.waiters.forEach((waiter) => waiter.reject(error)),
      )
      .finally(() => {
        this.#sending--;
        if (this.#batch !== undefined) this.#scheduleFlush();
      });
  }
}
