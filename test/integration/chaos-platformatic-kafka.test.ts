// Chaos cells for the @platformatic/kafka broker's publish (a Kafka node of its own, advertised at the proxy) behind Toxiproxy (issue #24); the full table: node scripts/chaos.ts platformatic-kafka.
import { describeChaos } from '../support/chaos-backends.ts';

await describeChaos('platformatic-kafka');
