// Microsoft SQL Server without SQL Server: berth's own TDS server on SQLite
// (test/servers/tds/server.ts), run with this Node, which has node:sqlite. SQL Server itself
// cannot be installed on these machines (see ../shared/notes/real-servers.md); docker-compose.test.yml
// and the Testcontainers fallback in test/support/servers.ts run the real one where Docker is.
//
// The emulation is faithful at the protocol level (login, TLS on request, typed parameters,
// transactions, cancellation, locks, errors) and covers a documented T-SQL subset (test/servers/tds/README.md);
// its env says BERTH_MSSQL_EMULATED=true so tests can tell. The sa password is made once and kept in the
// state folder (sa.password), next to the databases and the TLS certificates (tls/).
import { fileURLToPath } from 'node:url';
import { tdsLogin } from '../tds/probe.ts';
import { DEFAULT_USER, readOrCreatePassword } from '../tds/server.ts';
import { runCertificates } from '../certificates.ts';
import { HOST, portFromEnv, type ServiceContext, type ServiceDefinition } from './definition.ts';
import { portAccepts } from './probes.ts';

const SERVER = fileURLToPath(new URL('../tds/server.ts', import.meta.url));
/** The database the tests use (master exists too). */
export const MSSQL_DATABASE = 'berth';

const hasNodeSqlite = (): boolean => {
  try {
    return process.getBuiltinModule('node:sqlite') !== undefined;
  } catch {
    return false;
  }
};

const password = (ctx: ServiceContext): string => readOrCreatePassword(ctx.dir);

function mssqlService(flavour: {
  portVariable: string;
  defaultPort: number;
  secure: boolean;
}): ServiceDefinition {
  return {
    install: {
      describe: "nothing to install (berth's own TDS server, run with this Node, which needs node:sqlite)",
      isInstalled: hasNodeSqlite,
      canInstall: () => false,
      install: () => Promise.reject(new Error('node:sqlite is missing: run the project Node (>= 24)')),
    },
    port: () => portFromEnv(flavour.portVariable, flavour.defaultPort),
    command: (ctx) => {
      password(ctx); // before the server starts, so env() and the server agree
      const args = [
        SERVER,
        '--port',
        String(ctx.port),
        '--dir',
        ctx.dir,
        '--host',
        HOST,
        '--user',
        DEFAULT_USER,
      ];
      if (flavour.secure) {
        const certificates = runCertificates(ctx.dir);
        args.push(
          '--cert-file',
          certificates.serverCertFile,
          '--key-file',
          certificates.serverKeyFile,
          '--require-encryption',
        );
      }
      return { command: process.execPath, args };
    },
    answers: async (ctx) => {
      // It listens once its databases and certificate are ready; a plaintext login would be refused.
      if (flavour.secure) return portAccepts(HOST, ctx.port);
      try {
        const result = await tdsLogin({
          host: HOST,
          port: ctx.port,
          user: DEFAULT_USER,
          password: password(ctx),
          database: MSSQL_DATABASE,
          timeoutMs: 2000,
        });
        return result.ok;
      } catch {
        return false; // not up yet (refused, closed, …)
      }
    },
    env: (ctx) => {
      const url = `mssql://${DEFAULT_USER}:${encodeURIComponent(password(ctx))}@${HOST}:${ctx.port}/${MSSQL_DATABASE}`;
      if (!flavour.secure) return { MSSQL_URL: url, BERTH_MSSQL_EMULATED: 'true' };
      const certificates = runCertificates(ctx.dir);
      return {
        BERTH_MSSQL_SECURE_URL: url,
        BERTH_MSSQL_SECURE_CA_FILE: certificates.caFile,
        BERTH_MSSQL_SECURE_CLIENT_CERT_FILE: certificates.clientCertFile,
        BERTH_MSSQL_SECURE_CLIENT_KEY_FILE: certificates.clientKeyFile,
      };
    },
    startTimeoutMs: 20_000,
    processMatch: 'tds/server.ts',
  };
}

export const mssql = mssqlService({ portVariable: 'BERTH_MSSQL_PORT', defaultPort: 11433, secure: false });

/** Encryption required (as Force Encryption), a certificate of the run's CA, the login checked. */
export const mssqlSecure = mssqlService({
  portVariable: 'BERTH_MSSQL_SECURE_PORT',
  defaultPort: 11434,
  secure: true,
});
