/**
 * Apache Kafka 3.9 as a cluster of three KRaft nodes on 127.0.0.1, each a broker and a controller
 * in a JVM of its own, so a test can SIGKILL one node and start it again while the other two keep
 * the quorum and the data. Same jars as the single-node `kafka` service (its installer fetches
 * them), run on Java 17.
 *
 * Ports: the brokers on `BERTH_KAFKA_CLUSTER_PORT` (default 19192) and the next two, their
 * controllers on the three ports after those. Topics default to three replicas with
 * `min.insync.replicas=2`. Each `up` starts an empty cluster (the nodes' logs are wiped and
 * formatted); a node started again by `startStoppedClusterNodes` keeps its data.
 *
 * The service's process is a supervisor: this file run with `supervise <plan>`. It formats and
 * starts the three JVMs, writes each one's pid to `node-<id>/node.pid`, does not restart a node
 * that exits, starts the stopped ones on SIGUSR2 (not SIGUSR1, which Node keeps for its
 * inspector), and stops them all on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { java17 } from './cassandra.ts';
import { KAFKA_LOG4J, kafka, kafkaClasspath, propertiesText } from './kafka.ts';
import { kafkaBrokers } from './kafka-probe.ts';
import { HOST, log, portFromEnv, type Installer, type ServiceDefinition } from './definition.ts';
import { portAccepts } from './probes.ts';

const NODE_IDS = [1, 2, 3] as const;

/** On the supervisor's and the JVMs' command lines, so a recycled pid is never signalled. */
const SUPERVISOR_MARK = 'kafka-cluster.ts supervise';
const NODE_MARK = '-Dberth.service=kafka-cluster';

// Three of these share two cores with other JVMs: a small heap, and fewer threads than Kafka's defaults.
const JVM_OPTIONS = [
  NODE_MARK,
  '-Xms128m',
  '-Xmx384m',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
];

export interface ClusterNode {
  readonly id: number;
  readonly brokerPort: number;
  readonly controllerPort: number;
  /** Holds the node's properties, log, pidfile and data. */
  readonly dir: string;
}

/** What the supervisor needs, written by `command()` into the state folder. */
interface ClusterPlan {
  readonly java: string;
  readonly classpath: string;
  readonly log4jFile: string;
  readonly clusterId: string;
  readonly nodes: readonly ClusterNode[];
}

export function clusterNodes(stateDir: string, basePort: number): ClusterNode[] {
  return NODE_IDS.map((id, index) => ({
    id,
    brokerPort: basePort + index,
    controllerPort: basePort + NODE_IDS.length + index,
    dir: path.join(stateDir, `node-${id}`),
  }));
}

const nodePidFile = (node: ClusterNode): string => path.join(node.dir, 'node.pid');
const nodeDataDir = (node: ClusterNode): string => path.join(node.dir, 'data');
const nodeProperties = (node: ClusterNode): string => path.join(node.dir, 'server.properties');
const nodeLog = (node: ClusterNode): string => path.join(node.dir, 'node.log');
const planFile = (stateDir: string): string => path.join(stateDir, 'cluster.json');

const installer: Installer = {
  describe: `${kafka.install.describe}; the cluster runs on Java 17`,
  isInstalled: () => java17() !== undefined && kafka.install.isInstalled(),
  canInstall: () => java17() !== undefined && kafka.install.canInstall(),
  install: (ctx) => kafka.install.install(ctx),
};

function serverProperties(node: ClusterNode, nodes: readonly ClusterNode[]): string {
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    'controller.quorum.voters': nodes.map((n) => `${n.id}@${HOST}:${n.controllerPort}`).join(','),
    listeners: `PLAINTEXT://${HOST}:${node.brokerPort},CONTROLLER://${HOST}:${node.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${node.brokerPort}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': nodeDataDir(node),
    'num.partitions': 3,
    'default.replication.factor': 3,
    'min.insync.replicas': 2,
    'auto.create.topics.enable': true,
    'offsets.topic.replication.factor': 3,
    'offsets.topic.num.partitions': 3,
    'transaction.state.log.replication.factor': 3,
    'transaction.state.log.min.isr': 2,
    'transaction.state.log.num.partitions': 3,
    'group.initial.rebalance.delay.ms': 0,
    // A killed node is fenced, and leaves every ISR, after 5 s instead of 9.
    'broker.heartbeat.interval.ms': 1_000,
    'broker.session.timeout.ms': 5_000,
    'num.network.threads': 2,
    'num.io.threads': 2,
    'background.threads': 2,
    'log.cleaner.threads': 1,
    // Small heap: the log cleaner's dedupe buffer defaults to 128 MB.
    'log.cleaner.dedupe.buffer.size': 8 * 1024 * 1024,
  };
  return propertiesText('test/servers/launchers/kafka-cluster.ts', settings);
}

export const kafkaCluster: ServiceDefinition = {
  install: installer,
  port: () => portFromEnv('BERTH_KAFKA_CLUSTER_PORT', 19192),
  command: (ctx) => {
    const java = java17();
    if (java === undefined)
      throw new Error('kafka-cluster: no Java 17 found (JAVA_HOME, PATH, /usr/lib/jvm)');
    const nodes = clusterNodes(ctx.dir, ctx.port);
    for (const node of nodes) {
      fs.mkdirSync(node.dir, { recursive: true });
      fs.writeFileSync(nodeProperties(node), serverProperties(node, nodes));
    }
    const log4jFile = path.join(ctx.dir, 'log4j.properties');
    fs.writeFileSync(log4jFile, KAFKA_LOG4J);
    const plan: ClusterPlan = { java, classpath: kafkaClasspath(), log4jFile, clusterId: clusterId(), nodes };
    fs.writeFileSync(planFile(ctx.dir), `${JSON.stringify(plan, null, 2)}\n`);
    return { command: process.execPath, args: [import.meta.filename, 'supervise', planFile(ctx.dir)] };
  },
  answers: async (ctx) => (await registeredBrokers(ctx.dir, ctx.port)) === NODE_IDS.length,
  env: (ctx) => ({
    BERTH_KAFKA_CLUSTER_BROKERS: clusterNodes(ctx.dir, ctx.port)
      .map((node) => `${HOST}:${node.brokerPort}`)
      .join(','),
  }),
  // Three JVMs formatted and started at once on two cores: ~15 s idle, a minute or more when busy.
  startTimeoutMs: 180_000,
  stopTimeoutMs: 30_000,
  processMatch: SUPERVISOR_MARK,
};

/** The brokers the first node that answers lists (registered and not fenced); 0 when none answers. */
async function registeredBrokers(stateDir: string, basePort: number): Promise<number> {
  for (const node of clusterNodes(stateDir, basePort)) {
    const brokers = await kafkaBrokers(HOST, node.brokerPort, 2_000).catch(() => undefined);
    if (brokers !== undefined) return brokers.length;
  }
  return 0;
}

/** A Kafka cluster id: 16 random bytes, base64url without padding, not starting with `-`. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

// ---------------------------------------------------------------------------------------------
// Control, for tests: stop one node, start the stopped ones
// ---------------------------------------------------------------------------------------------

/** The live pid of a node's JVM, else undefined. */
export function clusterNodePid(node: ClusterNode): number | undefined {
  return livePid(nodePidFile(node), NODE_MARK);
}

/** Sends `signal` (SIGKILL by default) to one node's JVM; resolves its pid once it is gone. */
export async function killClusterNode(
  node: ClusterNode,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<number> {
  const pid = clusterNodePid(node);
  if (pid === undefined) throw new Error(`kafka-cluster: node ${node.id} is not running`);
  process.kill(pid, signal);
  const deadline = Date.now() + 30_000;
  // Its main thread shows as a zombie while the others still exit and hold the sockets.
  while (isRunning(pid) || (await portAccepts(HOST, node.brokerPort, 200))) {
    if (Date.now() > deadline)
      throw new Error(`kafka-cluster: node ${node.id} (pid ${pid}) outlived ${signal}`);
    await sleep(20);
  }
  return pid;
}

const supervisorPid = (stateDir: string): number | undefined =>
  livePid(path.join(stateDir, 'kafka-cluster.pid'), SUPERVISOR_MARK);

/** Asks the supervisor to start the nodes that are not running; false when no supervisor runs. */
export function startStoppedClusterNodes(stateDir: string): boolean {
  const pid = supervisorPid(stateDir);
  if (pid === undefined) return false;
  process.kill(pid, 'SIGUSR2');
  return true;
}

/** Kills the nodes of a supervisor that died (SIGKILLed): none could be started again. */
export async function stopOrphanedClusterNodes(stateDir: string, basePort: number): Promise<number> {
  if (supervisorPid(stateDir) !== undefined) return 0;
  let stopped = 0;
  for (const node of clusterNodes(stateDir, basePort)) {
    if (clusterNodePid(node) === undefined) continue;
    await killClusterNode(node);
    stopped++;
  }
  return stopped;
}

function livePid(pidFile: string, mark: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8'), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return undefined;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(mark)
      ? pid
      : undefined;
  } catch {
    return pid; // no /proc: trust the pidfile
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// The supervisor
// ---------------------------------------------------------------------------------------------

function say(message: string): void {
  process.stdout.write(`[${new Date().toISOString()}] supervisor: ${message}\n`);
}

function runJava(plan: ClusterPlan, node: ClusterNode, mainArgs: string[]): ChildProcess {
  const logFd = fs.openSync(nodeLog(node), 'a');
  try {
    return spawn(
      plan.java,
      [...JVM_OPTIONS, `-Dlog4j.configuration=file:${plan.log4jFile}`, '-cp', plan.classpath, ...mainArgs],
      { stdio: ['ignore', logFd, logFd] },
    );
  } finally {
    fs.closeSync(logFd);
  }
}

function exitOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    child.once('error', (error) => resolve(error.message));
    child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`));
  });
}

async function format(plan: ClusterPlan, node: ClusterNode): Promise<void> {
  fs.rmSync(nodeDataDir(node), { recursive: true, force: true });
  const result = await exitOf(
    runJava(plan, node, [
      'kafka.tools.StorageTool',
      'format',
      '-t',
      plan.clusterId,
      '-c',
      nodeProperties(node),
    ]),
  );
  if (result !== 'exit 0')
    throw new Error(`formatting node ${node.id} failed (${result}); see ${nodeLog(node)}`);
}

async function supervise(plan: ClusterPlan): Promise<void> {
  const running = new Map<number, ChildProcess>();
  let stopping = false;
  // Each `up` wipes the data, so a stop need not wait for Kafka's controlled shutdown.
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('stopping every node');
    const exits = [...running.values()].map((child) => exitOf(child));
    for (const child of running.values()) child.kill('SIGTERM');
    const killer = setTimeout(() => {
      for (const child of running.values()) child.kill('SIGKILL');
    }, 10_000);
    await Promise.all(exits);
    clearTimeout(killer);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  // Registered at once: SIGUSR2's default action would end the supervisor.
  let formatted = false;
  process.on('SIGUSR2', () => {
    if (stopping || !formatted) return;
    for (const node of plan.nodes) if (!running.has(node.id)) start(node);
  });

  // JVMs left by a supervisor that was SIGKILLed would hold the ports.
  for (const node of plan.nodes) if (clusterNodePid(node) !== undefined) await killClusterNode(node);
  await Promise.all(plan.nodes.map((node) => format(plan, node)));

  const start = (node: ClusterNode): void => {
    const child = runJava(plan, node, ['kafka.Kafka', nodeProperties(node)]);
    running.set(node.id, child);
    if (child.pid !== undefined) fs.writeFileSync(nodePidFile(node), `${child.pid}\n`);
    say(`node ${node.id} started (pid ${child.pid}), broker ${HOST}:${node.brokerPort}`);
    void exitOf(child).then((how) => {
      running.delete(node.id);
      fs.rmSync(nodePidFile(node), { force: true });
      say(`node ${node.id} stopped (${how})`);
      // With no node left there is no cluster to supervise; `up` starts a new one.
      if (running.size === 0 && !stopping) process.exit(1);
    });
  };
  if (stopping) return;
  for (const node of plan.nodes) start(node);
  formatted = true;
}

if (import.meta.main) {
  const [mode, file] = process.argv.slice(2);
  if (mode !== 'supervise' || file === undefined) {
    log(
      'usage: node test/servers/launchers/kafka-cluster.ts supervise <cluster.json> (run by `npm run services`)',
    );
    process.exit(2);
  }
  const plan = JSON.parse(fs.readFileSync(file, 'utf8')) as ClusterPlan;
  supervise(plan).catch((error: unknown) => {
    say(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
