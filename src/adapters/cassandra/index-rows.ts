import { maxTtlSeconds } from './schema.ts';

// When the index rows of a stream's bucket (its bucket row and its tag-set row, written together)
// must be written again before a point. The rule, in docs/DESIGN-NOTES.md ("Cassandra time
// series"): a row for points of TTL `t` lives `t + slack`, and is written again once half the
// slack has passed since it was last sent.

/** Point TTLs below this (seconds) keep exact index rows, written with every write. */
const minTtlWithSlack = 600;
const maxSlackSeconds = 3_600;

/**
 * Seconds an index row outlives the points written with a TTL of `ttl` seconds: a tenth of the
 * TTL, at most an hour; 0 (the row written with every write, with the point's own TTL) below ten
 * minutes, where a minute of slack would be a large part of a point's life, and where the TTL plus
 * the slack would pass Cassandra's largest.
 */
export function indexSlackSeconds(ttl: number): number {
  if (ttl < minTtlWithSlack) return 0;
  const slack = Math.min(maxSlackSeconds, Math.ceil(ttl / 10));
  return ttl + slack > maxTtlSeconds ? 0 : slack;
}

/** The TTL an index row is written with for points of TTL `ttl` (0: none). */
export const indexTtlSeconds = (ttl: number): number => (ttl === 0 ? 0 : ttl + indexSlackSeconds(ttl));

/**
 * A moment by two clocks: `performance.now()`, which no wall-clock step moves, and `Date.now()`,
 * which keeps counting while the machine sleeps. A row is written again when either says so.
 */
export interface Instant {
  readonly monotonic: number;
  readonly wall: number;
}

export const instantNow = (): Instant => ({ monotonic: performance.now(), wall: Date.now() });

/**
 * The index rows this process wrote and until when they need no writing again, least recently
 * used first, at most `capacity` of them (a forgotten row is only written once more).
 */
export class WrittenIndexRows {
  readonly #writeAgainAt = new Map<string, Instant>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#writeAgainAt.size;
  }

  /** Whether row `id` must be written before a point sent at `now` or later. */
  isDue(id: string, now: Instant): boolean {
    const at = this.#writeAgainAt.get(id);
    if (at === undefined || now.monotonic >= at.monotonic || now.wall >= at.wall) return true;
    this.#writeAgainAt.delete(id);
    this.#writeAgainAt.set(id, at);
    return false;
  }

  /**
   * Row `id` for points of TTL `ttl` (0: none) was written by a statement sent at `sentAt` or
   * later: so it lives at least until `sentAt + ttl + slack` of the server's clock. Points sent in
   * the next half of the slack expire before it, unless one takes the other half to arrive.
   */
  written(id: string, ttl: number, sentAt: Instant): void {
    const slack = indexSlackSeconds(ttl);
    if (ttl !== 0 && slack === 0) return;
    const halfSlackMs = ttl === 0 ? Infinity : slack * 500;
    this.#writeAgainAt.delete(id);
    this.#writeAgainAt.set(id, {
      monotonic: sentAt.monotonic + halfSlackMs,
      wall: sentAt.wall + halfSlackMs,
    });
    if (this.#writeAgainAt.size > this.#capacity)
      this.#writeAgainAt.delete(this.#writeAgainAt.keys().next().value!);
  }
}
