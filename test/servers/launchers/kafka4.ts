/**
 * Apache Kafka 4.4, single node in KRaft mode, beside the 3.9 `kafka` service: the same launcher
 * (launchers/kafka.ts `kafkaNode`) with 4.x's jars and logging. Shows which clients and adapters
 * work on Kafka 4, which removed the protocol versions older than Kafka 2.1 (KIP-896).
 *
 * Kafka 4 runs on Java 17 or later and logs through log4j2 (no log4j 1 any more); its brokers
 * have no ZooKeeper mode, which the shared properties never used. Ports: the broker on
 * `BERTH_KAFKA4_PORT` (default 19292), its controller on the next one. It prints
 * `BERTH_KAFKA4_BROKERS`, not a `KAFKA_*` name, which berth would warn about as unknown.
 * `BERTH_KAFKA4_KEEP_DATA=true` keeps the log across restarts.
 */
import { java17 } from './cassandra.ts';
import type { ServiceDefinition } from './definition.ts';
import { kafkaNode, type KafkaRelease } from './kafka.ts';

const LOG4J2_VERSION = '2.25.5';

/** log4j2 to stdout (the service log): warnings, plus the start and stop lines. */
const KAFKA4_LOG4J2 = `status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
`;

/** Kafka 4.4: log4j-api and log4j-core come with it; slf4j 1.7 reaches them through log4j-slf4j-impl. */
export const KAFKA_4_4: KafkaRelease = {
  version: '4.4.0',
  logging: [['org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J2_VERSION]],
  logConfig: { file: 'log4j2.properties', text: KAFKA4_LOG4J2, property: 'log4j2.configurationFile' },
  java: java17,
  javaNeeded: '17',
};

export const kafka4: ServiceDefinition = kafkaNode(KAFKA_4_4, {
  name: 'kafka4',
  variablePrefix: 'BERTH_KAFKA4',
  defaultPort: 19292,
  envVar: 'BERTH_KAFKA4_BROKERS',
});
