// Chaos cells for the PostgreSQL SqlDatabase behind Toxiproxy (issue #15); the full table: node scripts/chaos.ts.
import { describeChaos } from '../support/chaos-backends.ts';

await describeChaos('postgres');
