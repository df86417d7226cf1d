import { ErrorReply } from 'redis';
import type { RedisClusterClient } from './clients.ts';

export interface ScanPage {
  keys: string[];
  cursor: string | undefined;
}

/**
 * One SCAN page over a Redis Cluster: SCAN runs on one master at a time, masters in the order of
 * the first slot each serves. The cursor is `<slot>:<that master's cursor>`, so it holds no
 * client-side state (a page can be retried from it, by any instance) and it survives a failover:
 * the replica that takes over serves the same slots.
 */
export async function scanClusterPage(
  cluster: RedisClusterClient,
  options: { MATCH: string; COUNT: number; TYPE: string },
  cursor: string | undefined,
): Promise<ScanPage> {
  const firstSlots = mastersByFirstSlot(cluster);
  const [slotText = '', nodeCursor = '0'] = cursor === undefined ? [] : cursor.split(':', 2);
  const slot = cursor === undefined ? (firstSlots[0] ?? 0) : Number(slotText);
  const master = Number.isInteger(slot) ? cluster.slots[slot]?.master : undefined;
  if (master === undefined) throw new ErrorReply(`CLUSTERDOWN no master serves slot ${slotText || slot}`);
  const reply = await (await cluster.nodeClient(master)).scan(nodeCursor, options);
  if (reply.cursor !== '0') return { keys: reply.keys, cursor: `${slot}:${reply.cursor}` };
  const next = firstSlots.find((first) => first > slot);
  return { keys: reply.keys, cursor: next === undefined ? undefined : `${next}:0` };
}

/** The lowest slot of each master, ascending. */
function mastersByFirstSlot(cluster: RedisClusterClient): number[] {
  const seen = new Set<unknown>();
  const firstSlots: number[] = [];
  cluster.slots.forEach((shard, slot) => {
    if (shard === undefined || seen.has(shard.master)) return;
    seen.add(shard.master);
    firstSlots.push(slot);
  });
  return firstSlots;
}
