// The three-node Kafka of test/servers/launchers/kafka-cluster.ts, with the controls a failover test
// needs. Always the local service, never a BERTH_KAFKA_CLUSTER_BROKERS from elsewhere: the test must
// be able to kill one of its nodes.
import { canProvide, ensureService, stateDir } from '../servers/services.ts';
import {
  clusterNodes,
  killClusterNode,
  kafkaCluster,
  startStoppedClusterNodes,
  stopOrphanedClusterNodes,
  type ClusterNode,
} from '../servers/launchers/kafka-cluster.ts';
import type { Skip } from './servers.ts';

export interface LocalKafkaCluster {
  /** `host:port` of the three brokers. */
  readonly brokers: string[];
  /** SIGKILLs the node with this id (Kafka's node id, 1 to 3); resolves once it is gone. */
  kill(nodeId: number): Promise<void>;
  /** Starts every node that is not running, with its data. */
  startStopped(): void;
}

const SERVICE = 'kafka-cluster';

export async function findKafkaCluster(): Promise<LocalKafkaCluster | Skip> {
  if (!canProvide(SERVICE)) {
    const reason = 'this machine cannot run the three-node Kafka (Java 17 and Maven are needed)';
    process.stderr.write(`[servers] skip: ${reason}\n`);
    return { skip: reason };
  }
  const dir = stateDir(SERVICE);
  // A node a failed earlier run left stopped would keep `up` waiting for three brokers; nodes
  // whose supervisor died would answer `up` but could not be started again after a kill.
  if (!startStoppedClusterNodes(dir)) await stopOrphanedClusterNodes(dir, kafkaCluster.port());
  let env: Record<string, string>;
  try {
    env = await ensureService(SERVICE);
  } catch (error) {
    const reason = `local ${SERVICE} failed: ${error instanceof Error ? error.message : String(error)}`;
    if (process.env['CI'] === 'true')
      throw new Error(`${reason} (CI=true: a skip would hide a failure)`, { cause: error });
    process.stderr.write(`[servers] skip: ${reason}\n`);
    return { skip: reason };
  }
  const nodes: ClusterNode[] = clusterNodes(dir, kafkaCluster.port());
  const node = (id: number): ClusterNode => {
    const found = nodes.find((candidate) => candidate.id === id);
    if (found === undefined) throw new Error(`no node ${id} in the cluster`);
    return found;
  };
  return {
    brokers: (env['BERTH_KAFKA_CLUSTER_BROKERS'] ?? '').split(',').filter(Boolean),
    kill: async (nodeId) => {
      await killClusterNode(node(nodeId));
    },
    startStopped: () => {
      if (!startStoppedClusterNodes(dir)) throw new Error(`${SERVICE}: its supervisor is not running`);
    },
  };
}
