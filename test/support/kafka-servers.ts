// The single Kafka nodes of the tests, 3.9 and 4.x, found as test/support/servers.ts finds every server.
import { freePort } from './ports.ts';
import { findServer, type Skip } from './servers.ts';

/** How one Kafka version is found: its env variable, local service and container image. */
interface KafkaNodeSpec {
  readonly name: string;
  readonly envVar: string;
  readonly service: string;
  readonly image: string;
}

async function findKafkaNode(spec: KafkaNodeSpec): Promise<{ brokers: string[] } | Skip> {
  // Kafka hands clients the address in its advertised.listeners, so a container must publish
  // on a host port chosen before it starts (not a random mapped one), and the tests must reach
  // the Docker engine's ports on 127.0.0.1 (a local engine).
  const hostPort = process.env[spec.envVar] ? 0 : await freePort();
  const server = await findServer(spec.name, {
    envVar: spec.envVar,
    service: spec.service,
    container: {
      image: spec.image,
      port: 9092,
      value: (_host, port) => `127.0.0.1:${port}`,
      configure: (container) =>
        container.withExposedPorts({ container: 9092, host: hostPort }).withEnvironment({
          KAFKA_NODE_ID: '1',
          KAFKA_PROCESS_ROLES: 'broker,controller',
          KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
          KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${hostPort}`,
          KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
          KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
          KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
          KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
          KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
          KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'true',
        }),
    },
  });
  if ('skip' in server) return server;
  return {
    brokers: server.value
      .split(',')
      .map((broker) => broker.trim())
      .filter(Boolean),
  };
}

/** Apache Kafka 3.9 (KRaft, single node); `KAFKA_BROKERS` is a comma-separated broker list. */
export function findKafka(): Promise<{ brokers: string[] } | Skip> {
  return findKafkaNode({
    name: 'kafka',
    envVar: 'KAFKA_BROKERS',
    service: 'kafka',
    image: 'apache/kafka:3.9.1',
  });
}

/**
 * Apache Kafka 4.4 (KRaft, single node); `BERTH_KAFKA4_BROKERS` is a comma-separated broker list
 * (not a `KAFKA_*` name: berth warns about unknown ones).
 */
export function findKafka4(): Promise<{ brokers: string[] } | Skip> {
  return findKafkaNode({
    name: 'kafka 4',
    envVar: 'BERTH_KAFKA4_BROKERS',
    service: 'kafka4',
    image: 'apache/kafka:4.4.0',
  });
}
