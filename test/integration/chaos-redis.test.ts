// Chaos cells for the Redis cache behind Toxiproxy (issue #15); the full table: node scripts/chaos.ts.
import { describeChaos } from '../support/chaos-backends.ts';

await describeChaos('redis');
