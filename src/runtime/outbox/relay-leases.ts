import { isInfraError } from '../../ports/errors.ts';
import type { SqlDatabase } from '../../ports/sql-database.ts';
import { sql } from '../../ports/sql.ts';
import type { OutboxTables } from './outbox-statements.ts';

/**
 * The partitions one relay leases. Every live relay keeps a heartbeat row; each takes at most
 * its share (partitions divided by live relays, rounded up) of the partitions no relay holds or
 * whose lease ran out, and gives back what is over its share, so a relay that joins gets work
 * and one that dies loses its partitions within a lease. Times are the relays' clocks, in ms:
 * they must agree to well within a lease.
 */
export class RelayLeases {
  readonly #sql: SqlDatabase;
  readonly #tables: OutboxTables;
  readonly #partitions: number;
  readonly #relay: string;
  readonly #leaseMs: number;
  #owned: number[] = [];
  // Until when the partitions in #owned are surely this relay's: the last renewal plus a lease.
  #validUntil = 0;
  #prepared = false;

  constructor(
    database: SqlDatabase,
    tables: OutboxTables,
    partitions: number,
    relay: string,
    leaseMs: number,
  ) {
    this.#sql = database;
    this.#tables = tables;
    this.#partitions = partitions;
    this.#relay = relay;
    this.#leaseMs = leaseMs;
  }

  /** The partitions this relay may publish now: none once its lease may have run out. */
  owned(now = Date.now()): readonly number[] {
    return now < this.#validUntil ? this.#owned : [];
  }

  /** Heartbeat, renewal, then claims up to the share and gives back what is over it. */
  async renew(): Promise<void> {
    if (!this.#prepared) await this.#prepare();
    const { leases, relays } = this.#tables;
    const started = Date.now();
    const expires = started + this.#leaseMs;
    const beat = await this.#sql.execute(
      sql`UPDATE ${sql.id(relays)} SET expires_ms = ${expires} WHERE relay = ${this.#relay}`,
    );
    if (beat === 0)
      await this.#sql.execute(
        sql`INSERT INTO ${sql.id(relays)} (relay, expires_ms) VALUES (${this.#relay}, ${expires})`,
      );
    await this.#sql.execute(
      sql`UPDATE ${sql.id(leases)} SET expires_ms = ${expires} WHERE owner = ${this.#relay} AND expires_ms >= ${started}`,
    );
    const [live] = await this.#sql.query<{ relays: number | string | bigint }>(
      sql`SELECT COUNT(*) AS relays FROM ${sql.id(relays)} WHERE expires_ms >= ${started}`,
    );
    const share = Math.ceil(this.#partitions / Math.max(1, Number(live?.relays ?? 1)));
    let rows = await this.#leaseRows();
    let mine = rows.filter((row) => row.owner === this.#relay && Number(row.expires_ms) >= started);
    if (mine.length > share) {
      const extra = mine.slice(share).map((row) => row.partition_no);
      await this.#sql.execute(
        sql`UPDATE ${sql.id(leases)} SET owner = ${null}, expires_ms = ${0} WHERE owner = ${this.#relay} AND partition_no IN (${sql.join(extra)})`,
      );
      mine = mine.slice(0, share);
    } else if (mine.length < share) {
      const free = rows
        .filter((row) => row.owner === null || Number(row.expires_ms) < started)
        .slice(0, share - mine.length)
        .map((row) => row.partition_no);
      if (free.length > 0) {
        // Only those still free when the update runs: another relay may have claimed some.
        await this.#sql.execute(
          sql`UPDATE ${sql.id(leases)} SET owner = ${this.#relay}, expires_ms = ${expires} WHERE partition_no IN (${sql.join(free)}) AND (owner IS NULL OR expires_ms < ${started})`,
        );
        rows = await this.#leaseRows();
        mine = rows.filter((row) => row.owner === this.#relay && Number(row.expires_ms) >= started);
      }
    }
    this.#owned = mine.map((row) => Number(row.partition_no)).sort((a, b) => a - b);
    this.#validUntil = started + this.#leaseMs;
    await this.#sql.execute(sql`DELETE FROM ${sql.id(relays)} WHERE expires_ms < ${started - this.#leaseMs}`);
  }

  /** Gives back every partition and the heartbeat, so that another relay takes over at once. */
  async release(): Promise<void> {
    this.#owned = [];
    this.#validUntil = 0;
    const { leases, relays } = this.#tables;
    await this.#sql.execute(
      sql`UPDATE ${sql.id(leases)} SET owner = ${null}, expires_ms = ${0} WHERE owner = ${this.#relay}`,
    );
    await this.#sql.execute(sql`DELETE FROM ${sql.id(relays)} WHERE relay = ${this.#relay}`);
  }

  #leaseRows(): Promise<
    { partition_no: number; owner: string | null; expires_ms: number | string | bigint }[]
  > {
    return this.#sql.query(
      sql`SELECT partition_no, owner, expires_ms FROM ${sql.id(this.#tables.leases)} ORDER BY partition_no`,
    );
  }

  /** A lease row for each partition, made by the first relay that finds it missing. */
  async #prepare(): Promise<void> {
    const rows = await this.#leaseRows();
    const present = new Set(rows.map((row) => Number(row.partition_no)));
    for (let partition = 0; partition < this.#partitions; partition++) {
      if (present.has(partition)) continue;
      await this.#sql
        .execute(
          sql`INSERT INTO ${sql.id(this.#tables.leases)} (partition_no, owner, expires_ms) VALUES (${partition}, ${null}, ${0})`,
        )
        .catch((error: unknown) => {
          // Another relay inserted it first.
          if (!(isInfraError(error) && error.reason === 'conflict')) throw error;
        });
    }
    this.#prepared = true;
  }
}
