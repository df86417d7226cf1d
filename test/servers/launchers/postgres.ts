/**
 * PostgreSQL from Debian's `postgresql` package (15 on bookworm), as a cluster of its own, never
 * the machine's default one: `initdb` into `<state>/data` (superuser `berth`, scram-sha-256, a
 * password generated once into `<state>/password`), database `berth`, listening on 127.0.0.1 only
 * on `BERTH_POSTGRES_PORT` (default 15432), unix socket in `<state>/run`. fsync, synchronous_commit
 * and full_page_writes are off: fast; a killed server recovers, but an OS crash may corrupt the
 * cluster (delete `<state>/data`, the next `up` re-creates it).
 *
 * The binaries are the newest major under /usr/lib/postgresql/<major>/bin, never PATH (Debian puts
 * no server binaries there; /usr/local/bin symlinks may point at an older one). The cluster is kept
 * across restarts, so tests use names of their own; it is re-created when it was made by another
 * major or with another password, or its initdb never finished.
 *
 * initdb and postgres refuse to run as root: as root they run as the `postgres` system user (which
 * the package creates) through `setpriv`, which execs without forking; `data` and `run` belong to
 * it, and the folders above the state folder are made searchable for it when they are not.
 *
 * `down` sends SIGTERM, which postgres takes as a "smart" shutdown that waits for every client to
 * leave; a bash wrapper turns it into SIGINT, a "fast" shutdown (clients cut, then a checkpoint).
 */
import { execFile, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { aptInstaller } from './apt-installer.ts';
import {
  HOST,
  log,
  portFromEnv,
  type Installer,
  type ServiceContext,
  type ServiceDefinition,
} from './definition.ts';
import { which } from './machine.ts';
import { portAccepts } from './probes.ts';
import { runCertificates } from '../certificates.ts';
import { keptPassword } from '../passwords.ts';

const PG_ROOT = '/usr/lib/postgresql';
const SUPERUSER = 'berth';
const DATABASE = 'berth';
/** The system user Debian's package creates; the server runs as it when we are root. */
const OS_USER = 'postgres';

/** sun_path is 108 bytes on Linux; postgres refuses a longer socket path at start. */
const MAX_SOCKET_PATH = 100;

// ---------------------------------------------------------------------------------------------
// Binaries and the user they run as
// ---------------------------------------------------------------------------------------------

/** The newest major under /usr/lib/postgresql with initdb, postgres and pg_isready, else undefined. */
function newestMajor(): string | undefined {
  let entries: string[];
  try {
    entries = fs.readdirSync(PG_ROOT);
  } catch {
    return undefined;
  }
  return entries
    .filter((major) => /^\d+$/.test(major))
    .filter((major) => ['initdb', 'postgres', 'pg_isready'].every((bin) => which(binary(major, bin))))
    .sort((a, b) => Number(b) - Number(a))[0];
}

function binary(major: string, name: string): string {
  return path.join(PG_ROOT, major, 'bin', name);
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function osUserExists(): boolean {
  return spawnSync('id', ['-u', OS_USER], { stdio: 'ignore' }).status === 0;
}

/** The command line that runs `args` as the postgres user when we are root, else as ourselves. */
function asServerUser(args: string[]): string[] {
  if (!isRoot()) return args;
  return ['setpriv', `--reuid=${OS_USER}`, `--regid=${OS_USER}`, '--init-groups', '--', ...args];
}

function runAsServerUser(args: string[], input?: string): { ok: boolean; output: string } {
  const [command, ...rest] = asServerUser(args) as [string, ...string[]];
  const result = spawnSync(command, rest, { input, encoding: 'utf8', timeout: 120_000 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? result.error.message : ''}`;
  return { ok: result.status === 0, output: output.trim() };
}

/** Chown to the postgres user when we are root (it must own its data folder). */
function giveToServerUser(dir: string): void {
  if (!isRoot()) return;
  const id = (flag: string) => Number(spawnSync('id', [flag, OS_USER], { encoding: 'utf8' }).stdout.trim());
  fs.chownSync(dir, id('-u'), id('-g'));
}

/** Makes `dir` and the folders above it searchable by the postgres user where they are not. */
function makeReachable(dir: string): void {
  if (!isRoot()) return;
  const searchable = (folder: string) => runAsServerUser(['test', '-x', folder]).ok;
  if (searchable(dir)) return;
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const folder = path.sep + parts.slice(0, i).join(path.sep);
    if (searchable(folder)) continue;
    // Search only (o+x), not listing: the postgres user must reach its data folder below it.
    fs.chmodSync(folder, fs.statSync(folder).mode | 0o001);
    log(`postgres: made ${folder} searchable by others (o+x) so the ${OS_USER} user reaches ${dir}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Install
// ---------------------------------------------------------------------------------------------

// Keyed on a path no package has, so `install` always runs apt-get: whether PostgreSQL is here is
// decided by newestMajor() (the versioned folders), not by PATH.
const apt = aptInstaller({ [path.join(PG_ROOT, '<newest>', 'bin', 'initdb')]: 'postgresql' });

const installer: Installer = {
  describe: apt.describe,
  isInstalled: () =>
    newestMajor() !== undefined && (!isRoot() || (osUserExists() && which('setpriv') !== undefined)),
  canInstall: () => apt.canInstall(),
  install: (ctx) => apt.install(ctx),
};

// ---------------------------------------------------------------------------------------------
// The cluster
// ---------------------------------------------------------------------------------------------

const dataDir = (ctx: ServiceContext) => path.join(ctx.dir, 'data');
const runDir = (ctx: ServiceContext) => path.join(ctx.dir, 'run');
const passwordFile = (ctx: ServiceContext) => path.join(ctx.dir, 'password');
/** Written after initdb and CREATE DATABASE succeeded: `<major> <password fingerprint>`. */
const markerFile = (ctx: ServiceContext) => path.join(ctx.dir, 'initialized');

/** The superuser's password: read from the state folder, generated there the first time. */
const password = (ctx: ServiceContext): string =>
  keptPassword(passwordFile(ctx), { valid: (kept) => /^[0-9a-f]{32}$/.test(kept) });

function marker(major: string, secret: string): string {
  return `${major} ${crypto.createHash('sha256').update(secret).digest('hex').slice(0, 16)}`;
}

/** initdb and CREATE DATABASE, unless the data folder already holds this major's cluster with this password. */
function ensureCluster(ctx: ServiceContext, major: string): void {
  const secret = password(ctx);
  const wanted = marker(major, secret);
  let current: string | undefined;
  try {
    current = fs.readFileSync(markerFile(ctx), 'utf8').trim();
  } catch {
    current = undefined;
  }
  if (current === wanted && fs.existsSync(path.join(dataDir(ctx), 'PG_VERSION'))) return;
  log(`postgres: initdb (PostgreSQL ${major}) into ${dataDir(ctx)}${current ? ` (was ${current})` : ''}`);
  fs.rmSync(markerFile(ctx), { force: true });
  fs.rmSync(dataDir(ctx), { recursive: true, force: true });
  fs.mkdirSync(dataDir(ctx), { mode: 0o700 });
  giveToServerUser(dataDir(ctx));
  // initdb reads the password from a file it can open as the postgres user; removed right after.
  const pwfile = path.join(runDir(ctx), 'initdb.pw');
  fs.writeFileSync(pwfile, `${secret}\n`, { mode: 0o600 });
  giveToServerUser(pwfile);
  let result;
  try {
    result = runAsServerUser([
      binary(major, 'initdb'),
      `--pgdata=${dataDir(ctx)}`,
      `--username=${SUPERUSER}`,
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--no-locale',
      '--no-sync',
      '--no-instructions',
    ]);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  if (!result.ok) throw new Error(`postgres: initdb failed:\n${result.output}`);
  // Single-user mode, before the server first starts: the database exists by the time it answers.
  const create = runAsServerUser(
    [binary(major, 'postgres'), '--single', '-F', '-D', dataDir(ctx), '-c', 'exit_on_error=on', 'postgres'],
    `CREATE DATABASE ${DATABASE};\n`,
  );
  if (!create.ok) throw new Error(`postgres: CREATE DATABASE ${DATABASE} failed:\n${create.output}`);
  fs.writeFileSync(markerFile(ctx), `${wanted}\n`);
}

function socketDir(ctx: ServiceContext): string {
  const socket = path.join(runDir(ctx), `.s.PGSQL.${ctx.port}`);
  if (socket.length <= MAX_SOCKET_PATH) return runDir(ctx);
  log(`postgres: ${socket} is too long for a unix socket; TCP only`);
  return '';
}

// The server in the background, SIGTERM/SIGINT passed on as SIGINT (fast shutdown), its exit status kept.
const WRAPPER = `trap 'kill -INT "$pid" 2>/dev/null' TERM INT
"$@" &
pid=$!
wait "$pid"
status=$?
while kill -0 "$pid" 2>/dev/null; do
  wait "$pid"
  status=$?
done
exit "$status"`;

// ---------------------------------------------------------------------------------------------
// The definition
// ---------------------------------------------------------------------------------------------

/** How one cluster differs from the other: its port, and TLS only with the run's certificates. */
interface Flavour {
  readonly portVariable: string;
  readonly defaultPort: number;
  readonly secure: boolean;
  /** `$0` of the bash wrapper, so a recycled pid is never signalled; also the cluster's name. */
  readonly processMark: string;
}

// TLS only (hostssl, scram-sha-256) with the run's certificates, copied where the postgres user
// owns them (it refuses a key others can read).
function secureSettings(ctx: ServiceContext): Record<string, string> {
  const certificates = runCertificates(ctx.dir);
  const files = {
    'server.crt': certificates.serverCertFile,
    'server.key': certificates.serverKeyFile,
    'ca.crt': certificates.caFile,
  };
  for (const [name, source] of Object.entries(files)) {
    const target = path.join(runDir(ctx), name);
    fs.copyFileSync(source, target);
    fs.chmodSync(target, 0o600);
    giveToServerUser(target);
  }
  const hba = path.join(runDir(ctx), 'pg_hba.conf');
  fs.writeFileSync(hba, `hostssl all all ${HOST}/32 scram-sha-256\n`);
  giveToServerUser(hba);
  return {
    ssl: 'on',
    ssl_cert_file: path.join(runDir(ctx), 'server.crt'),
    ssl_key_file: path.join(runDir(ctx), 'server.key'),
    ssl_ca_file: path.join(runDir(ctx), 'ca.crt'),
    hba_file: hba,
  };
}

function postgresService(flavour: Flavour): ServiceDefinition {
  return {
    install: installer,
    port: () => portFromEnv(flavour.portVariable, flavour.defaultPort),
    command: (ctx) => {
      const major = newestMajor();
      if (major === undefined) throw new Error(`postgres: no PostgreSQL under ${PG_ROOT}`);
      makeReachable(ctx.dir);
      fs.mkdirSync(runDir(ctx), { recursive: true });
      giveToServerUser(runDir(ctx));
      ensureCluster(ctx, major);
      const settings = {
        listen_addresses: HOST,
        port: String(ctx.port),
        unix_socket_directories: socketDir(ctx),
        max_connections: '200',
        // A throwaway test cluster: durability only costs time here.
        fsync: 'off',
        synchronous_commit: 'off',
        full_page_writes: 'off',
        // In the process titles (`postgres: berth: checkpointer`), to tell it from other clusters.
        cluster_name: flavour.secure ? 'berth-secure' : 'berth',
        ...(flavour.secure ? secureSettings(ctx) : {}),
      };
      const server = [
        binary(major, 'postgres'),
        '-D',
        dataDir(ctx),
        ...Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
      ];
      return { command: 'bash', args: ['-c', WRAPPER, flavour.processMark, ...asServerUser(server)] };
    },
    answers: async (ctx) => {
      const major = newestMajor();
      if (major === undefined || !(await portAccepts(HOST, ctx.port))) return false;
      // A startup-message handshake through libpq: 0 once it accepts connections (not while starting).
      const args = ['-q', '-h', HOST, '-p', String(ctx.port), '-U', SUPERUSER, '-d', DATABASE, '-t', '3'];
      return new Promise((resolve) => {
        execFile(binary(major, 'pg_isready'), args, { timeout: 5000 }, (error) => resolve(error === null));
      });
    },
    env: (ctx) => {
      const url = `postgres://${SUPERUSER}:${password(ctx)}@${HOST}:${ctx.port}/${DATABASE}`;
      if (!flavour.secure) return { POSTGRES_URL: url };
      // Outside POSTGRES_*: beside an app's own POSTGRES_URL these would be a second config.
      const certificates = runCertificates(ctx.dir);
      return {
        BERTH_POSTGRES_SECURE_URL: url,
        BERTH_POSTGRES_SECURE_CA_FILE: certificates.caFile,
        BERTH_POSTGRES_SECURE_CLIENT_CERT_FILE: certificates.clientCertFile,
        BERTH_POSTGRES_SECURE_CLIENT_KEY_FILE: certificates.clientKeyFile,
      };
    },
    // Answers ~1 s after launch; initdb (first start only, ~2 s) runs before and is not counted.
    startTimeoutMs: 60_000,
    // Fast shutdown: clients cut, one checkpoint (no fsync), well under a second with little data.
    stopTimeoutMs: 30_000,
    processMatch: flavour.processMark,
  };
}

export const postgres = postgresService({
  portVariable: 'BERTH_POSTGRES_PORT',
  defaultPort: 15432,
  secure: false,
  processMark: 'berth-postgres-service',
});

/** ssl=on, hostssl only, scram-sha-256: clients verify it with the run's CA (`verify-full`). */
export const postgresSecure = postgresService({
  portVariable: 'BERTH_POSTGRES_SECURE_PORT',
  defaultPort: 15433,
  secure: true,
  processMark: 'berth-postgres-secure-service',
});
