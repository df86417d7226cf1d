import { inspect } from 'node:util';

const redactedText = '<redacted>';

/** Holds a secret so that printing, logging or serializing it shows `<redacted>`. */
export class Redacted<T = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  /** The plain value, only through this explicit call. */
  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return redactedText;
  }

  toJSON(): string {
    return redactedText;
  }

  [inspect.custom](): string {
    return redactedText;
  }
}

// Userinfo in any URL-like string: scheme://user:password@host or scheme://:password@host.
const urlCredentials = /([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s/@]+)@/gi;

/** Replaces passwords in URLs within `text`, so connection strings can be printed. */
export function redactCredentials(text: string): string {
  return text.replace(urlCredentials, `$1$2:${redactedText}@`);
}
