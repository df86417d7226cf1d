// The one way every adapter survives a rotated password: its rotating secrets read again once the
// backend refused one (guard() does it for calls and probes; an adapter whose driver reconnects in
// the background, as node-redis does, asks it from there too).
import type { Logger } from 'pino';
import { isInfraError } from '../../ports/errors.ts';
import { RotatingSecret } from '../../ports/rotating-secret.ts';

/** The rotating secrets of one adapter's options, read again after the backend answered `unauthorized`. */
export class CredentialRenewal {
  readonly #secrets: readonly RotatingSecret[];
  readonly #logger: Logger;
  // The version of each secret last logged: one line per rotation, however many calls noticed it.
  readonly #logged: number[];

  private constructor(secrets: readonly RotatingSecret[], logger: Logger) {
    this.#secrets = secrets;
    this.#logger = logger;
    this.#logged = secrets.map((secret) => secret.version);
  }

  /** The renewal of those of `values` that are rotating secrets; undefined when none is. */
  static of(values: readonly unknown[], logger: Logger): CredentialRenewal | undefined {
    const secrets = values.filter((value): value is RotatingSecret => value instanceof RotatingSecret);
    return secrets.length === 0 ? undefined : new CredentialRenewal(secrets, logger);
  }

  /**
   * Reads every secret again (each read shared by concurrent callers, see `RotatingSecret.renew`);
   * resolves true when one changed, so that connecting again is worth it. Never rejects: a store
   * that cannot be read is logged, by reason, and the values kept.
   */
  async renew(): Promise<boolean> {
    const outcomes = await Promise.all(
      this.#secrets.map((secret) =>
        secret.renew().catch((error: unknown) => {
          const reason = isInfraError(error) ? error.reason : 'internal';
          this.#logger.warn({ secret: secret.name, reason }, 'could not read a refused secret again');
          return false;
        }),
      ),
    );
    const fresh = this.#secrets.filter((secret, index) => secret.version > this.#logged[index]!);
    this.#secrets.forEach((secret, index) => (this.#logged[index] = secret.version));
    if (fresh.length > 0)
      this.#logger.info(
        { secrets: fresh.map((secret) => secret.name) },
        'credentials renewed from the secret store',
      );
    return outcomes.includes(true);
  }
}
