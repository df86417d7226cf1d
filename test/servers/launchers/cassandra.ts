/**
 * Apache Cassandra 5.0, one node on 127.0.0.1, without Docker: `org.apache.cassandra:cassandra-all`
 * and its runtime dependencies (~100 jars, 67 MB) come from Maven Central through `mvn` (a generated
 * pom, `dependency:copy-dependencies`) into `${XDG_CACHE_HOME:-~/.cache}/berth/cassandra-<version>/lib`,
 * shared by every state folder, so only the first `up` on a machine downloads. The cassandra.yaml,
 * logback.xml and data live in the state folder.
 *
 * Needs Java 17 (Cassandra 5.0 runs on 11 and 17; Java 25 fails at start with "Setting a
 * system-wide Policy object is not supported"): `$JAVA_HOME/bin/java`, `java` on PATH or a JDK
 * under /usr/lib/jvm, the first that is 17. And `mvn` for the download.
 *
 * Each start is a fresh, empty node (like the kafka service): the data folder is wiped before the
 * JVM starts, unless BERTH_CASSANDRA_KEEP_DATA=true, which keeps it across a restart (tests that
 * stop the node and read back what it acknowledged).
 * Ports: CQL on `BERTH_CASSANDRA_PORT` (default 19042), the storage (gossip) port on the next one.
 * No JMX port (nodetool does not work); AllowAllAuthenticator. `cassandra-secure` (port 19044)
 * wants a login (PasswordAuthenticator) and TLS on CQL (the run's certificates, PEM).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  HOST,
  log,
  portFromEnv,
  type Installer,
  type ServiceContext,
  type ServiceDefinition,
} from './definition.ts';
import { cacheHome, which } from './machine.ts';
import { portAccepts } from './probes.ts';
import { runCertificates } from '../certificates.ts';
import { keptPassword } from '../passwords.ts';
import { cqlDatacenter, datacenterFile, readDatacenter, type CqlAccess } from './cassandra-probe.ts';
import { installJars as installMavenJars, libComplete, libDirOf, type MavenJars } from './maven-jars.ts';

export const CASSANDRA_VERSION = '5.0.9';

const ARTIFACT = ['org.apache.cassandra', 'cassandra-all', CASSANDRA_VERSION] as const;

/** Jars that must be in the lib folder for it to count as complete (besides the manifest). */
const REQUIRED_JARS = [`cassandra-all-${CASSANDRA_VERSION}.jar`];

/** The Java major version Cassandra 5.0 is started with here. */
const JAVA_MAJOR = 17;

/**
 * Every `--add-exports`/`--add-opens` line of Cassandra 5.0's conf/jvm17-server.options (the
 * cassandra-5.0 branch; later commits add `java.base/java.nio`, kept here: harmless on 17).
 */
const JPMS = [
  '--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED',
  '--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED',
  '--add-exports=java.sql/java.sql=ALL-UNNAMED',
  '--add-exports=java.base/java.lang.ref=ALL-UNNAMED',
  '--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED',
  '--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.module=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.math=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.module=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED',
  '--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
];

const jars: MavenJars = {
  name: 'cassandra',
  version: CASSANDRA_VERSION,
  dependencies: [ARTIFACT],
  requiredJars: REQUIRED_JARS,
  installDir: path.join(cacheHome(), 'berth', `cassandra-${CASSANDRA_VERSION}`),
};

function libDir(): string {
  return libDirOf(jars);
}

// ---------------------------------------------------------------------------------------------
// Java 17
// ---------------------------------------------------------------------------------------------

let javaFound: { path: string | undefined } | undefined;

/** The first Java 17 of `$JAVA_HOME`, PATH and /usr/lib/jvm, else undefined. Memoised. */
export function java17(): string | undefined {
  if (javaFound) return javaFound.path;
  const candidates: string[] = [];
  const javaHome = process.env['JAVA_HOME'];
  if (javaHome) candidates.push(path.join(javaHome, 'bin', 'java'));
  const onPath = which('java');
  if (onPath) candidates.push(onPath);
  try {
    for (const jdk of fs.readdirSync('/usr/lib/jvm').sort()) {
      candidates.push(path.join('/usr/lib/jvm', jdk, 'bin', 'java'));
    }
  } catch {
    // no /usr/lib/jvm
  }
  const seen = new Set<string>();
  for (const candidate of candidates) {
    let real: string;
    try {
      real = fs.realpathSync(candidate);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const result = spawnSync(real, ['-version'], { encoding: 'utf8', timeout: 10_000 });
    if (javaMajor(`${result.stderr ?? ''}${result.stdout ?? ''}`) === JAVA_MAJOR) {
      javaFound = { path: real };
      return real;
    }
  }
  javaFound = { path: undefined };
  return undefined;
}

/** The major version in `java -version`'s output (8 for "1.8.0_x"), else undefined. */
function javaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const major = Number(match[1]);
  return major === 1 ? Number(match[2]) : major;
}

// ---------------------------------------------------------------------------------------------
// Install: the jars, through a generated pom
// ---------------------------------------------------------------------------------------------

let explained = false;

function missingTools(): string[] {
  const missing: string[] = [];
  if (java17() === undefined) missing.push(`java ${JAVA_MAJOR}`);
  if (which('mvn') === undefined) missing.push('mvn');
  return missing;
}

const installer: Installer = {
  describe: `mvn copy of ${ARTIFACT.join(':')} from Maven Central into ${libDir()} (needs java ${JAVA_MAJOR} and mvn)`,
  isInstalled: () => java17() !== undefined && libComplete(jars),
  canInstall: () => {
    const missing = missingTools();
    if (missing.length > 0 && !explained) {
      explained = true;
      const packages = missing.map((tool) =>
        tool === 'mvn' ? 'maven' : `openjdk-${JAVA_MAJOR}-jre-headless`,
      );
      log(
        `cassandra: cannot install: ${missing.join(' and ')} not found ` +
          `(Debian/Ubuntu: apt-get install ${packages.join(' ')})`,
      );
    }
    return missing.length === 0;
  },
  install: () => installJars(),
};

async function installJars(): Promise<void> {
  const missing = missingTools();
  if (missing.length > 0) throw new Error(`cassandra: ${missing.join(' and ')} not found`);
  await installMavenJars(jars);
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/** What a secure node adds: who may log in, and TLS on the CQL port only (optional: false). */
function secureYaml(ctx: ServiceContext): string {
  const certificates = runCertificates(ctx.dir);
  const keystore = path.join(ctx.dir, 'tls', 'server-keystore.pem');
  const key = fs.readFileSync(certificates.serverKeyFile, 'utf8');
  fs.writeFileSync(keystore, key + fs.readFileSync(certificates.serverCertFile, 'utf8'), { mode: 0o600 });
  return `authenticator: PasswordAuthenticator
client_encryption_options:
  enabled: true
  optional: false
  ssl_context_factory:
    class_name: org.apache.cassandra.security.PEMBasedSslContextFactory
  keystore: ${JSON.stringify(keystore)}
  require_client_auth: false
`;
}

function cassandraYaml(ctx: ServiceContext, dataDir: string, secure: boolean): string {
  const storagePort = ctx.port + 1;
  const dir = (name: string) => JSON.stringify(path.join(dataDir, name));
  return `# Generated by berth test/servers/launchers/cassandra.ts at each start; edits are lost.
cluster_name: berth-test
num_tokens: 16
allocate_tokens_for_local_replication_factor: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${HOST}:${storagePort}"
listen_address: ${HOST}
rpc_address: ${HOST}
storage_port: ${storagePort}
native_transport_port: ${ctx.port}
start_native_transport: true
data_file_directories:
  - ${dir('data')}
commitlog_directory: ${dir('commitlog')}
saved_caches_directory: ${dir('saved_caches')}
hints_directory: ${dir('hints')}
cdc_raw_directory: ${dir('cdc_raw')}
# Every write is synced to the commit log before it is acknowledged, so an acknowledged write
# survives SIGKILL as well as SIGTERM (periodic sync, Cassandra's default, may lose the last
# 10 s on SIGKILL).
commitlog_sync: batch
${secure ? secureYaml(ctx) : 'authenticator: AllowAllAuthenticator\n'}authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager
network_authorizer: AllowAllNetworkAuthorizer
# As Cassandra 5.0's shipped cassandra.yaml (and so the cassandra:5.0.9 image) says.
storage_compatibility_mode: CASSANDRA_4
# One node: hints, snapshots on truncate/drop and the disk-space checks only cost time here.
hinted_handoff_enabled: false
auto_snapshot: false
`;
}

/** Logback: everything at INFO to system.log in the state folder, warnings also to stdout (the service log). */
function logbackXml(ctx: ServiceContext): string {
  const file = path.join(ctx.dir, 'system.log');
  return `<configuration scan="false">
  <!-- Generated by berth test/servers/launchers/cassandra.ts at each start; edits are lost. -->
  <appender name="FILE" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <file>${file}</file>
    <rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy">
      <fileNamePattern>${file}.%i</fileNamePattern>
      <minIndex>1</minIndex>
      <maxIndex>2</maxIndex>
    </rollingPolicy>
    <triggeringPolicy class="ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy">
      <maxFileSize>20MB</maxFileSize>
    </triggeringPolicy>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <filter class="ch.qos.logback.classic.filter.ThresholdFilter"><level>WARN</level></filter>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="FILE" />
    <appender-ref ref="STDOUT" />
  </root>
</configuration>
`;
}

// ---------------------------------------------------------------------------------------------
// The definition
// ---------------------------------------------------------------------------------------------

/** How one node differs from the other: its port and name, and whether it wants TLS and a login. */
interface Flavour {
  readonly name: string;
  readonly portVariable: string;
  readonly defaultPort: number;
  readonly secure: boolean;
}

export const CASSANDRA_SECURE_USER = 'berth';

const password = (ctx: ServiceContext): string => keptPassword(path.join(ctx.dir, 'user.password'));

// A fresh secure node has only the default superuser: the tests' own login role is made with it
// (and made again after each start, which wipes the data).
function secureAccess(ctx: ServiceContext): { access: CqlAccess; statements: string[] } {
  const ca = fs.readFileSync(runCertificates(ctx.dir).caFile, 'utf8');
  return {
    access: { sslOptions: { ca }, credentials: { username: 'cassandra', password: 'cassandra' } },
    statements: [
      `CREATE ROLE IF NOT EXISTS ${CASSANDRA_SECURE_USER} WITH PASSWORD = '${password(ctx)}' AND LOGIN = true AND SUPERUSER = true`,
    ],
  };
}

function cassandraService(flavour: Flavour): ServiceDefinition {
  const processMark = `-Dberth.service=${flavour.name}`;
  return {
    install: installer,
    port: () => portFromEnv(flavour.portVariable, flavour.defaultPort),
    command: (ctx) => {
      const java = java17();
      if (java === undefined) throw new Error(`cassandra: no Java ${JAVA_MAJOR} found`);
      const dataDir = path.join(ctx.dir, 'data');
      const confDir = path.join(ctx.dir, 'conf');
      const triggersDir = path.join(ctx.dir, 'triggers');
      fs.mkdirSync(confDir, { recursive: true });
      fs.mkdirSync(triggersDir, { recursive: true });
      const yamlFile = path.join(confDir, 'cassandra.yaml');
      const logbackFile = path.join(confDir, 'logback.xml');
      fs.writeFileSync(yamlFile, cassandraYaml(ctx, dataDir, flavour.secure));
      fs.writeFileSync(logbackFile, logbackXml(ctx));
      fs.rmSync(datacenterFile(ctx), { force: true });
      const jvm = [
        processMark,
        '-Xms512m',
        '-Xmx1g',
        '-Xss256k',
        '-XX:+UseG1GC',
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.net.preferIPv4Stack=true',
        '-Djdk.attach.allowAttachSelf=true',
        ...JPMS,
        '-Dio.netty.tryReflectionSetAccessible=true',
        `-Dcassandra.config=file://${yamlFile}`,
        `-Dlogback.configurationFile=${logbackFile}`,
        `-Dcassandra.triggers_dir=${triggersDir}`,
        '-Dcassandra-foreground=true',
        // One node: no ring to wait for, and no peer to tell about a shutdown (2 s by default).
        '-Dcassandra.ring_delay_ms=100',
        '-Dcassandra.skip_wait_for_gossip_to_settle=0',
        '-Dcassandra.shutdown_announce_in_ms=0',
        // The default superuser at once, not 10 s after start.
        '-Dcassandra.superuser_setup_delay_ms=0',
        '-cp',
        `${confDir}:${path.join(libDir(), '*')}`,
        'org.apache.cassandra.service.CassandraDaemon',
      ];
      // $1 data dir, then java and its arguments. BERTH_CASSANDRA_KEEP_DATA=true keeps the data
      // across restarts, for tests of a node outage.
      const keepData = process.env['BERTH_CASSANDRA_KEEP_DATA'] === 'true';
      const script = `${keepData ? '' : 'rm -rf "$1" && '}mkdir -p "$1" && shift && exec "$@"`;
      return { command: 'bash', args: ['-c', script, `berth-${flavour.name}`, dataDir, java, ...jvm] };
    },
    answers: async (ctx) => {
      if (!(await portAccepts(HOST, ctx.port))) return false;
      const { access, statements } = flavour.secure ? secureAccess(ctx) : { access: {}, statements: [] };
      const datacenter = await cqlDatacenter(HOST, ctx.port, 5000, access, statements).catch(() => undefined);
      if (datacenter === undefined) return false;
      try {
        if (readDatacenter(ctx) !== datacenter) fs.writeFileSync(datacenterFile(ctx), `${datacenter}\n`);
      } catch {
        // the env falls back to datacenter1
      }
      return true;
    },
    env: (ctx) => {
      // What the node reported the last time it answered; SimpleSnitch always says datacenter1.
      const datacenter = readDatacenter(ctx) ?? 'datacenter1';
      if (!flavour.secure)
        return { CASSANDRA_CONTACT_POINTS: `${HOST}:${ctx.port}`, CASSANDRA_LOCAL_DATACENTER: datacenter };
      // Outside CASSANDRA_*: beside an app's own contact points these would be a second config.
      const certificates = runCertificates(ctx.dir);
      return {
        BERTH_CASSANDRA_SECURE_URL: `${HOST}:${ctx.port}`,
        BERTH_CASSANDRA_SECURE_DATACENTER: datacenter,
        BERTH_CASSANDRA_SECURE_USERNAME: CASSANDRA_SECURE_USER,
        BERTH_CASSANDRA_SECURE_PASSWORD: password(ctx),
        BERTH_CASSANDRA_SECURE_CA_FILE: certificates.caFile,
        BERTH_CASSANDRA_SECURE_CLIENT_CERT_FILE: certificates.clientCertFile,
        BERTH_CASSANDRA_SECURE_CLIENT_KEY_FILE: certificates.clientKeyFile,
      };
    },
    // CQL answers ~7 s after launch on 2 idle cores, 15–25 s while another test run loads them.
    // The download is part of `install`, which the start timeout does not cover.
    startTimeoutMs: 180_000,
    // SIGTERM drains (flushes every memtable): ~3 s here with little data, more after a test that
    // wrote a lot; SIGKILL after 10 s (the default) would leave the commit log to replay.
    stopTimeoutMs: 60_000,
    processMatch: processMark,
  };
}

export const cassandra = cassandraService({
  name: 'cassandra',
  portVariable: 'BERTH_CASSANDRA_PORT',
  defaultPort: 19042,
  secure: false,
});

/** PasswordAuthenticator, CQL over TLS only (client_encryption_options optional: false), the run's CA. */
export const cassandraSecure = cassandraService({
  name: 'cassandra-secure',
  portVariable: 'BERTH_CASSANDRA_SECURE_PORT',
  defaultPort: 19044,
  secure: true,
});
