/**
 * Redis Cluster: three masters and three replicas on 127.0.0.1, on `BERTH_REDIS_CLUSTER_PORT`
 * (default 17000) and the five ports after it; each node's cluster bus is on its port + 10000.
 *
 * `up` runs this file as a small supervisor (the service's one process): it starts the six
 * `redis-server --cluster-enabled yes`, joins them with `redis-cli --cluster create
 * --cluster-replicas 1`, and stops them on SIGTERM. Like the redis service it keeps no data: each
 * start is a new, empty cluster. Should a node die, the supervisor stops the others and exits, so
 * the next `up` starts a whole cluster again (tests that kill nodes run a cluster of their own,
 * test/support/redis-cluster.ts, from the same pieces).
 *
 * cluster-node-timeout is 2 s (Redis's default is 15 s): a master that stops answering is failed
 * over within a few seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptInstaller } from './apt-installer.ts';
import { HOST, log, portFromEnv, type ServiceDefinition } from './definition.ts';
import { which } from './machine.ts';

const SUPERVISOR = fileURLToPath(import.meta.url);
export const CLUSTER_NODE_COUNT = 6;
export const CLUSTER_NODE_TIMEOUT_MS = 2_000;

/** The command line of one cluster node; its state (nodes.conf) lives in `dir`. */
export function clusterNodeArgs(
  port: number,
  dir: string,
  nodeTimeoutMs = CLUSTER_NODE_TIMEOUT_MS,
): string[] {
  return [
    '--bind',
    HOST,
    '--port',
    String(port),
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--logfile',
    '',
    '--save',
    '',
    '--appendonly',
    'no',
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    String(nodeTimeoutMs),
  ];
}

/** Sends one command and resolves its reply as text (a bulk, simple or integer reply); an error reply rejects. */
export function respCommand(port: number, args: readonly string[], timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let buffer = Buffer.alloc(0);
    const finish = (error: Error | undefined, reply?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply ?? '');
    };
    const timer = setTimeout(
      () => finish(new Error(`no reply from ${HOST}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('connect', () => {
      const parts = args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
      socket.write(`*${args.length}\r\n${parts.join('')}`);
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const lineEnd = buffer.indexOf('\r\n');
      if (lineEnd < 0) return;
      const line = buffer.subarray(1, lineEnd).toString();
      switch (buffer[0]) {
        case 0x2b: // +
        case 0x3a: // :
          return finish(undefined, line);
        case 0x2d: // -
          return finish(new Error(line));
        case 0x24: {
          // $<length>, then the bytes
          const length = Number(line);
          if (length < 0) return finish(undefined, '');
          if (buffer.length < lineEnd + 2 + length) return;
          return finish(undefined, buffer.subarray(lineEnd + 2, lineEnd + 2 + length).toString());
        }
        default:
          return finish(new Error(`unexpected reply from ${HOST}:${port}: ${line}`));
      }
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error(`${HOST}:${port} closed the connection`)));
  });
}

/** One command to the node on `port`, its reply as text: `respCommand`, or one over TLS as a user. */
export type NodeCommand = (port: number, args: readonly string[]) => Promise<string>;

export interface ClusterNodeView {
  port: number;
  role: 'master' | 'replica';
  failed: boolean;
  slotRanges: number;
}

/** The nodes as one node sees them (CLUSTER NODES). */
export async function clusterNodes(
  port: number,
  command: NodeCommand = respCommand,
): Promise<ClusterNodeView[]> {
  const text = await command(port, ['CLUSTER', 'NODES']);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, address = '', flags = '', , , , , , ...slots] = line.split(' ');
      const flagList = flags.split(',');
      return {
        port: Number(address.slice(address.lastIndexOf(':') + 1).split('@')[0]),
        role: flagList.includes('master') ? 'master' : 'replica',
        failed: flagList.some(
          (flag) => flag === 'fail' || flag === 'fail?' || flag === 'handshake' || flag === 'noaddr',
        ),
        slotRanges: slots.filter((slot) => /^\d/.test(slot)).length,
      };
    });
}

/**
 * True when every node says the cluster is ok, the first sees half the nodes as masters with
 * slots and the rest as replicas, none failing, and every replica has its master's data.
 */
export async function clusterHealthy(
  ports: readonly number[],
  command: NodeCommand = respCommand,
): Promise<boolean> {
  try {
    for (const port of ports) {
      if (!(await command(port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok')) return false;
    }
    const view = await clusterNodes(ports[0]!, command);
    const masters = view.filter((node) => node.role === 'master' && node.slotRanges > 0);
    const replicas = view.filter((node) => node.role === 'replica');
    if (view.length !== ports.length || view.some((node) => node.failed)) return false;
    if (masters.length !== ports.length / 2 || replicas.length !== ports.length / 2) return false;
    for (const replica of replicas) {
      const info = await command(replica.port, ['INFO', 'replication']);
      if (!info.includes('master_link_status:up')) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * `redis-cli --cluster create`: half the nodes become masters, each with one replica; `cliArgs`
 * go before it (`--tls`, `--cacert`, `--user`, `--pass` for a TLS cluster).
 */
export function formCluster(
  ports: readonly number[],
  timeoutMs = 60_000,
  cliArgs: readonly string[] = [],
): Promise<void> {
  const cli = which('redis-cli');
  if (cli === undefined) return Promise.reject(new Error('redis-cli is not on PATH (Debian: redis-tools)'));
  const args = [...cliArgs, '--cluster', 'create', ...ports.map((port) => `${HOST}:${port}`)];
  args.push('--cluster-replicas', '1', '--cluster-yes');
  return new Promise((resolve, reject) => {
    const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `redis-cli --cluster create ended with ${signal ?? code}:\n${output.trim().split('\n').slice(-15).join('\n')}`,
          ),
        );
    });
  });
}

export const redisCluster: ServiceDefinition = {
  install: aptInstaller({ 'redis-server': 'redis-server', 'redis-cli': 'redis-tools' }),
  port: () => portFromEnv('BERTH_REDIS_CLUSTER_PORT', 17000),
  command: (ctx) => ({
    command: process.execPath,
    args: [SUPERVISOR, '--dir', ctx.dir, '--ports', nodePorts(ctx.port).join(',')],
  }),
  answers: (ctx) => clusterHealthy(nodePorts(ctx.port)),
  env: (ctx) => ({
    BERTH_REDIS_CLUSTER_NODES: nodePorts(ctx.port)
      .map((port) => `${HOST}:${port}`)
      .join(','),
  }),
  // Six starts and the cluster's forming: ~2 s on idle cores.
  startTimeoutMs: 60_000,
  processMatch: 'redis-cluster.ts',
};

function nodePorts(first: number): number[] {
  if (first + CLUSTER_NODE_COUNT - 1 + 10_000 > 65_535) {
    throw new Error(`BERTH_REDIS_CLUSTER_PORT=${first}: its nodes' bus ports (+10000) pass 65535`);
  }
  return Array.from({ length: CLUSTER_NODE_COUNT }, (_, i) => first + i);
}

// ---------------------------------------------------------------------------------------------
// The supervisor: `node test/servers/launchers/redis-cluster.ts --dir <state> --ports <p1,…,p6>`
// ---------------------------------------------------------------------------------------------

async function supervise(dir: string, ports: readonly number[]): Promise<void> {
  const binary = which('redis-server');
  if (binary === undefined) throw new Error('redis-server is not on PATH');
  const nodes: ChildProcess[] = [];
  let stopping = false;
  const stopAll = (code: number): void => {
    if (stopping) return;
    stopping = true;
    for (const node of nodes) node.kill('SIGTERM');
    const exitWhenDone = setInterval(() => {
      if (nodes.every((node) => node.exitCode !== null || node.signalCode !== null)) process.exit(code);
    }, 50);
    setTimeout(() => {
      for (const node of nodes) node.kill('SIGKILL');
      clearInterval(exitWhenDone);
      process.exit(code);
    }, 5_000).unref();
  };
  process.on('SIGTERM', () => stopAll(0));
  process.on('SIGINT', () => stopAll(0));
  for (const port of ports) {
    // A new cluster each start: nodes.conf of the last one would make the nodes rejoin it.
    const nodeDir = path.join(dir, `node-${port}`);
    fs.rmSync(nodeDir, { recursive: true, force: true });
    fs.mkdirSync(nodeDir, { recursive: true });
    const node = spawn(binary, clusterNodeArgs(port, nodeDir), { stdio: ['ignore', 'inherit', 'inherit'] });
    node.once('exit', (code, signal) => {
      if (stopping) return;
      log(`redis-cluster: the node on port ${port} exited (${signal ?? code}); stopping the others`);
      stopAll(1);
    });
    nodes.push(node);
  }
  try {
    for (const port of ports) {
      while ((await respCommand(port, ['PING']).catch(() => '')) !== 'PONG') {
        if (stopping) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    await formCluster(ports);
    log(`redis-cluster: formed on ${ports.map((port) => `${HOST}:${port}`).join(', ')}`);
  } catch (error) {
    log(`redis-cluster: ${error instanceof Error ? error.message : String(error)}`);
    stopAll(1);
  }
}

if (import.meta.main) {
  const argument = (name: string): string => {
    const index = process.argv.indexOf(name);
    const value = index < 0 ? undefined : process.argv[index + 1];
    if (value === undefined) throw new Error(`usage: redis-cluster.ts --dir <state dir> --ports <p1,...,p6>`);
    return value;
  };
  const ports = argument('--ports').split(',').map(Number);
  supervise(argument('--dir'), ports).catch((error: unknown) => {
    log(`redis-cluster: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
