// Chaos cells for the Kafka broker's publish (a Kafka node of its own, advertised at the proxy) behind Toxiproxy (issue #15); the full table: node scripts/chaos.ts.
import { describeChaos } from '../support/chaos-backends.ts';

await describeChaos('kafka');
