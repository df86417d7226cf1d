// A Redis Cluster as production runs one (#26): TLS only, between the nodes too (tls-cluster,
// tls-replication), the `default` user off, an ACL user limited to the commands berth sends, and
// an admin the replicas and the test's own commands log in as. Six nodes of a test's own, on free
// ports, with certificates made for it (test/servers/certificates.ts); built from the pieces of the
// plaintext cluster (launchers/redis-cluster.ts).
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { runCertificates, type RunCertificates } from '../servers/certificates.ts';
import {
  CLUSTER_NODE_COUNT,
  CLUSTER_NODE_TIMEOUT_MS,
  clusterHealthy,
  formCluster,
  type NodeCommand,
} from '../servers/launchers/redis-cluster.ts';
import { redisSecureCommands } from '../servers/launchers/redis-secure.ts';
import { freePort, portIsFree } from './ports.ts';
import { waitFor } from './wait.ts';

/** What a cluster client sends besides the commands of one server: it learns the slots. */
export const redisClusterCommands = ['cluster|slots'];

export interface TlsRedisCluster {
  /** `127.0.0.1:<port>` of every node, for `cluster.nodes`. */
  readonly nodes: string[];
  readonly username: string;
  readonly password: string;
  readonly adminPassword: string;
  readonly certificates: RunCertificates;
  readonly ports: readonly number[];
  /** One command to one node as the admin, over TLS. */
  readonly admin: NodeCommand;
  /** Stops every node and removes their state. */
  stop(): Promise<void>;
}

/** A free port whose cluster bus port (+10000) is free too. */
async function freeClusterPort(taken: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (port <= 55_000 && !taken.has(port) && (await portIsFree(port + 10_000))) return port;
  }
  throw new Error('no free port with a free cluster bus port');
}

function nodeConfig(
  port: number,
  dir: string,
  certificates: RunCertificates,
  secrets: { password: string; adminPassword: string },
): string {
  const commands = [...redisSecureCommands, ...redisClusterCommands].map((command) => `+${command}`);
  return [
    'bind 127.0.0.1',
    'port 0',
    `tls-port ${port}`,
    'tls-cluster yes',
    'tls-replication yes',
    `tls-cert-file ${certificates.serverCertFile}`,
    `tls-key-file ${certificates.serverKeyFile}`,
    `tls-ca-cert-file ${certificates.caFile}`,
    // Nodes dial each other's bus and replicas their master as TLS clients: with a client certificate.
    `tls-client-cert-file ${certificates.clientCertFile}`,
    `tls-client-key-file ${certificates.clientKeyFile}`,
    'tls-auth-clients optional',
    `dir ${dir}`,
    `logfile ${path.join(dir, 'redis.log')}`,
    'save ""',
    'appendonly no',
    'cluster-enabled yes',
    'cluster-config-file nodes.conf',
    `cluster-node-timeout ${CLUSTER_NODE_TIMEOUT_MS}`,
    'user default off',
    `user berth on >${secrets.password} resetkeys ~* resetchannels -@all ${commands.join(' ')}`,
    `user berth-admin on >${secrets.adminPassword} ~* &* +@all`,
    'masteruser berth-admin',
    `masterauth ${secrets.adminPassword}`,
    '',
  ].join('\n');
}

/** Six TLS nodes (three masters, three replicas) formed into a cluster; healthy when it resolves. */
export async function startTlsRedisCluster(binary: string): Promise<TlsRedisCluster> {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'berth-redis-cluster-tls-'));
  const certificates = runCertificates(dir);
  const secrets = {
    password: randomBytes(16).toString('hex'),
    adminPassword: randomBytes(16).toString('hex'),
  };
  const ca = fs.readFileSync(certificates.caFile, 'utf8');
  // As the admin over TLS: the health checks and the cluster's forming.
  const command: NodeCommand = async (port, args) => {
    const client = createClient({
      socket: { host: '127.0.0.1', port, tls: true, ca, connectTimeout: 1_000, reconnectStrategy: false },
      username: 'berth-admin',
      password: secrets.adminPassword,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const reply: unknown = await client.sendCommand([...args]);
      return typeof reply === 'string' ? reply : JSON.stringify(reply);
    } finally {
      client.destroy();
    }
  };
  const ports: number[] = [];
  for (let i = 0; i < CLUSTER_NODE_COUNT; i++) ports.push(await freeClusterPort(new Set(ports)));
  const children: ChildProcess[] = [];
  process.once('exit', () => children.forEach((child) => child.kill('SIGKILL')));
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    // BERTH_KEEP_CLUSTER_STATE=true keeps the nodes' logs (redis.log in the folder) to read after a failure.
    if (process.env['BERTH_KEEP_CLUSTER_STATE'] !== 'true') fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const nodeDir = path.join(dir, `node-${port}`);
      fs.mkdirSync(nodeDir, { recursive: true });
      const config = path.join(nodeDir, 'redis.conf');
      fs.writeFileSync(config, nodeConfig(port, nodeDir, certificates, secrets), { mode: 0o600 });
      children.push(spawn(binary, [config], { stdio: 'ignore' }));
    }
    for (const port of ports)
      await waitFor(`node ${port} answers`, async () => (await command(port, ['PING'])) === 'PONG', 20_000, {
        ignoreErrors: true,
      });
    const tlsArgs = ['--tls', '--cacert', certificates.caFile, '--user', 'berth-admin'];
    await formCluster(ports, 60_000, [...tlsArgs, '--pass', secrets.adminPassword, '--no-auth-warning']);
    await waitFor('the TLS cluster is healthy', () => clusterHealthy(ports, command), 60_000);
    return {
      nodes: ports.map((port) => `127.0.0.1:${port}`),
      username: 'berth',
      ...secrets,
      certificates,
      ports,
      admin: command,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
