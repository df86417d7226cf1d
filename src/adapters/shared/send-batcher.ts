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
 * Gathers a driver's messages into one request at a time: while a request is in flight,
 * publishes gather for the next one; when idle they go after `lingerMs`, or at once (guardBroker
 * already gathers a turn of the event loop's publishes). One request in flight keeps per-key order.
 */
export class SendBatcher<M> {
  readonly #send: (messages: M[]) => Promise<unknown>;
  readonly #settings: SendBatcherSettings;
  #batch: { messages: M[]; waiters: PendingSend[] } | undefined = undefined;
  #sending = 0;
  #flushScheduled = false;

  constructor(send: (messages: M[]) => Promise<unknown>, settings: SendBatcherSettings) {
    this.#send = send;
    this.#settings = settings;
  }

  /** Resolves when the request that carried `messages` was acknowledged; rejects with its error. */
  enqueue(messages: readonly M[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#batch ??= { messages: [], waiters: [] };
      const batch = this.#batch;
      for (const message of messages) batch.messages.push(message);
      batch.waiters.push({ resolve, reject });
      if (batch.messages.length >= this.#settings.maxBatchRecords) this.flush();
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
    this.#send(batch.messages)
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
