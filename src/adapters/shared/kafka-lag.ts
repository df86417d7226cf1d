// What a consumer group's lag on a partition is, the same for both Kafka drivers.
import type { PartitionLag } from '../../ports/broker.ts';

/** The high watermark minus the group's committed offset, or minus the log start where it committed none. */
export function partitionLag(
  partition: number,
  end: bigint,
  start: bigint,
  committed: bigint | undefined,
): PartitionLag {
  const from = committed === undefined || committed < 0n ? start : committed;
  const lag = end - from;
  return { partition: String(partition), lag: lag > 0n ? Number(lag) : 0 };
}
