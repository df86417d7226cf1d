// A test server of one test file's own (its own state folder and ports, data kept across a
// restart), for fault tests that stop, freeze and restart it without disturbing other tests.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, portIsFree } from './ports.ts';

const root = join(import.meta.dirname, '..', '..');

/** A free port whose next one is free too (Kafka's controller, Cassandra's storage port). */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort();
    if (port < 65_000 && (await portIsFree(port + 1))) return port;
  }
  throw new Error('no two free neighbouring ports');
}

export interface OwnService {
  stateDir: string;
  port: number;
  /** Runs `scripts/services.ts <args>` for this server, asynchronously so calls go on meanwhile. */
  services: (...args: string[]) => Promise<string>;
}

/**
 * Kafka and Cassandra wipe their data at each start unless `_KEEP_DATA`; PostgreSQL keeps its
 * cluster in the state folder anyway (its first `up` runs initdb there).
 */
export async function ownService(name: 'kafka' | 'cassandra' | 'postgres'): Promise<OwnService> {
  const stateDir = mkdtempSync(join(tmpdir(), `berth-${name}-fault-`));
  const port = await freePortPair();
  const variable = `BERTH_${name.toUpperCase()}`;
  const env = {
    ...process.env,
    BERTH_SERVICES_DIR: stateDir,
    [`${variable}_PORT`]: String(port),
    [`${variable}_KEEP_DATA`]: 'true',
  };
  const services = async (...args: string[]): Promise<string> => {
    const { stdout } = await promisify(execFile)(process.execPath, ['scripts/services.ts', ...args], {
      cwd: root,
      env,
      timeout: 300_000,
    });
    return stdout;
  };
  return { stateDir, port, services };
}
