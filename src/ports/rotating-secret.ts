// A credential that can be read again: what a `secret://` reference becomes in an adapter's
// options, so that a password rotated in the secret store reaches a running adapter.
import { Redacted } from './redacted.ts';
import type { SecretStore } from './secret-store.ts';

// After a read that found the same value, the store is not asked again for this long: a backend
// that keeps refusing (a wrong user, an ACL denial) must not turn every call into a store read.
const quietAfterUnchangedMs = 1_000;

/**
 * A `Redacted` secret read from a store by name, whose `reveal()` gives the value last read.
 * `renew()` reads it again; adapters call it when the backend refuses the value (`unauthorized`)
 * and connect again with what it gives. Prints as `<redacted>`, as any `Redacted`.
 */
export class RotatingSecret extends Redacted<string> {
  /** The secret's name in its store (the `<name>` of `secret://<name>`): never its value. */
  readonly name: string;
  readonly #read: () => Promise<string>;
  #value: string;
  #reading: Promise<boolean> | undefined = undefined;
  #quietUntil = 0;
  #changedAt = Number.NEGATIVE_INFINITY;
  #version = 0;

  /** `read` reads the value again from its source, past any cache; `value` is the one read already. */
  constructor(name: string, value: string, read: () => Promise<string>) {
    super(value);
    this.name = name;
    this.#value = value;
    this.#read = read;
  }

  /** The value last read. */
  override reveal(): string {
    return this.#value;
  }

  /** How many times `renew()` found a new value: 0 until the first rotation. */
  get version(): number {
    return this.#version;
  }

  /**
   * Reads the secret again: one read for every caller while it runs, none within a second of a
   * read that found the same value. Resolves true when the value changed, by this read or by one
   * that ended less than a second ago (a caller that failed with the old value tries once more);
   * rejects when the store cannot be read, keeping the value it had.
   */
  renew(): Promise<boolean> {
    const now = performance.now();
    if (now - this.#changedAt < quietAfterUnchangedMs) return Promise.resolve(true);
    if (this.#reading !== undefined) return this.#reading;
    if (now < this.#quietUntil) return Promise.resolve(false);
    this.#reading = this.#read()
      .then((value) => {
        const changed = value !== this.#value;
        this.#value = value;
        if (changed) {
          this.#version++;
          this.#changedAt = performance.now();
        } else this.#quietUntil = performance.now() + quietAfterUnchangedMs;
        return changed;
      })
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }
}

/** The secret `name` of `store`, read now; `renew()` reads it again past a caching store's memory. */
export async function rotatingSecret(store: SecretStore, name: string): Promise<RotatingSecret> {
  const first = await store.get(name);
  return new RotatingSecret(name, first.value.reveal(), () => readPastCache(store, name));
}

/** `store.get(name)`, after a caching store (one with `invalidate`, as `cachedSecretStore`'s) forgot it. */
export async function readPastCache(store: SecretStore, name: string): Promise<string> {
  const caching = store as SecretStore & { invalidate?: (name: string) => Promise<void> };
  if (typeof caching.invalidate === 'function') await caching.invalidate(name);
  return (await store.get(name)).value.reveal();
}
