// Chaos cells for the MongoDB document store (FerretDB) behind Toxiproxy (issue #15); the full table: node scripts/chaos.ts.
import { describeChaos } from '../support/chaos-backends.ts';

await describeChaos('mongodb');
