// Redis servers of a test's own: one on a chosen port (to start where a client already waits), or
// a whole cluster on free ports that the test may kill nodes of without disturbing other tests
// (the shared one from `npm run services -- up redis-cluster` is for suites that kill nothing).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { canProvide, ensureService, respPing, which } from '../servers/services.ts';
import {
  CLUSTER_NODE_COUNT,
  clusterHealthy,
  clusterNodeArgs,
  formCluster,
} from '../servers/launchers/redis-cluster.ts';
import { freePort, portIsFree } from './ports.ts';

/**
 * The `redis-server` binary, installed through the redis service when this machine can; else a
 * skip reason (which under CI=true only comes when the machine cannot provide Redis at all).
 */
export async function redisServerBinary(): Promise<{ path?: string; skip?: string }> {
  if (which('redis-server') === undefined && canProvide('redis')) await ensureService('redis');
  const path = which('redis-server');
  if (path !== undefined && which('redis-cli') !== undefined) return { path };
  return { skip: 'redis-server and redis-cli are not installed here, nor installable' };
}

export interface RedisServerProcess {
  readonly port: number;
  readonly pid: number;
  /** SIGKILL: the node vanishes as in a crash; resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/** Starts `redis-server` on `port` and resolves once it answers PING (within 20 s). */
export async function startRedisServer(
  binary: string,
  port: number,
  args: readonly string[] = [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--save',
    '',
    '--appendonly',
    'no',
  ],
): Promise<RedisServerProcess> {
  const child = spawn(binary, args, { stdio: 'ignore' });
  started.add(child);
  const exited = once(child, 'exit').then(() => started.delete(child));
  const deadline = performance.now() + 20_000;
  while ((await respPing('127.0.0.1', port, 500).catch(() => '')) !== '+PONG') {
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING`);
    }
    await sleep(50);
  }
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    port,
    pid: child.pid!,
    kill: () => end('SIGKILL'),
    stop: async () => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await end('SIGTERM');
      clearTimeout(timer);
    },
  };
}

/** A free port whose cluster bus port (+10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (port > 55_000 || taken.has(port)) continue;
    if (await portIsFree(port + 10_000)) return port;
  }
  throw new Error('no free port with a free cluster bus port');
}

export interface OwnRedisCluster {
  /** `127.0.0.1:<port>` of every node, for `cluster.nodes` / REDIS_CLUSTER_NODES. */
  readonly nodes: string[];
  readonly ports: number[];
  /** The running node on `port`. */
  node(port: number): RedisServerProcess;
  /** Starts the node on `port` again with its state (nodes.conf), so it rejoins the cluster. */
  restart(port: number): Promise<RedisServerProcess>;
  /** Resolves once the cluster is whole again (every node ok, each master with a synced replica). */
  waitUntilHealthy(withinMs: number): Promise<number>;
  /** Stops every node and removes their state. */
  stop(): Promise<void>;
}

/** Three masters and three replicas on free ports, cluster-node-timeout `nodeTimeoutMs`. */
export async function startOwnRedisCluster(binary: string, nodeTimeoutMs: number): Promise<OwnRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-redis-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < CLUSTER_NODE_COUNT; i++) ports.push(await freeClusterPort(new Set(ports)));
  const running = new Map<number, RedisServerProcess>();
  const startNode = async (port: number): Promise<RedisServerProcess> => {
    // Each node keeps its nodes.conf in a folder of its own, kept across a restart.
    const nodeDir = join(dir, `node-${port}`);
    mkdirSync(nodeDir, { recursive: true });
    const node = await startRedisServer(binary, port, clusterNodeArgs(port, nodeDir, nodeTimeoutMs));
    running.set(port, node);
    return node;
  };
  const cluster: OwnRedisCluster = {
    nodes: ports.map((port) => `127.0.0.1:${port}`),
    ports,
    node: (port) => {
      const node = running.get(port);
      if (node === undefined) throw new Error(`no node runs on port ${port}`);
      return node;
    },
    restart: startNode,
    waitUntilHealthy: async (withinMs) => {
      const began = performance.now();
      while (!(await clusterHealthy(ports))) {
        if (performance.now() - began > withinMs)
          throw new Error(`cluster not healthy within ${withinMs} ms`);
        await sleep(100);
      }
      return performance.now() - began;
    },
    stop: async () => {
      await Promise.all([...running.values()].map((node) => node.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(ports.map(startNode));
    await formCluster(ports);
    await cluster.waitUntilHealthy(60_000);
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
