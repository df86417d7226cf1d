// Chaos cells for the Key Vault secret store (HTTPS through the TCP proxy) behind Toxiproxy (issue #15); the full table: node scripts/chaos.ts.
import { describeChaos } from '../support/chaos-backends.ts';

await describeChaos('keyvault');
