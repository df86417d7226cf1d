// The topics a Kafka broker makes on first use, for both drivers: one creation per topic and
// process, whichever publish or consumer asks first, and no await at all once a topic is known.

/** Each topic created once (`create`), or never when `create` is undefined (the broker decides). */
export class TopicsOnFirstUse {
  readonly #create: ((topic: string) => Promise<void>) | undefined;
  readonly #known = new Map<string, Promise<void>>();
  // Topics known to exist: their publishes skip the await on `ensure`.
  readonly #ready = new Set<string>();

  constructor(create: ((topic: string) => Promise<void>) | undefined) {
    this.#create = create;
  }

  /** Resolves once `topic` exists; a creation that failed is forgotten, so the next call tries again. */
  ensure(topic: string): Promise<void> {
    if (this.#create === undefined) return Promise.resolve();
    let known = this.#known.get(topic);
    if (known === undefined) {
      known = this.#create(topic).catch((error: unknown) => {
        this.#known.delete(topic);
        throw error;
      });
      this.#known.set(topic, known);
    }
    return known;
  }

  /** Runs `send` once `topic` exists: at once when it is known to. */
  send(topic: string, send: () => Promise<void>): Promise<void> {
    if (this.#ready.has(topic)) return send();
    return this.ensure(topic).then(() => {
      this.#ready.add(topic);
      return send();
    });
  }
}
